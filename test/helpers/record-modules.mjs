// Preloaded into a child process (`--import`): records every OpenTelemetry module it loads in the
// file named by RECORD_MODULES_TO, so a test can tell whether the SDK was loaded at all.
import { register } from 'node:module'

register('./record-modules-hooks.mjs', import.meta.url)
