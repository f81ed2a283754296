/**
 * Copies the openly licensed prompt-injection rows the detector trains on out of the mirrored
 * repositories (the `fetch` tool's snapshots), at the commits recorded in
 * scripts/injection-data/manifest.json, into small committed JSONL files: training then needs
 * no mirror and gives the same bytes. Test and validation splits are never copied.
 *
 * Usage: tsx scripts/import-injection-data.ts [mirror-dir]   (default /work/.mirror)
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseDelimited } from './delimited.js'
import { DATA_DIR, loadEvaluationOnlyRows, type InjectionRow } from './injection-data.js'

const mirror = process.argv[2] ?? '/work/.mirror'
const show = (repo: string, commit: string, path: string) =>
  execFileSync('git', ['--git-dir', resolve(mirror, repo.replace('/', '+'), 'repo'), 'show', `${commit}:${path}`], { maxBuffer: 64 << 20 }).toString('utf8')

// Attack types of PromptShield's train split that address the model. Left out: shell and code
// execution (`adversarial`, `training_extraction`, most of `encoding`: "Run: `whoami`"), which
// is not addressed to a moderator, and `model_fingerprinting` (questions about the model).
const PROMPTSHIELD_ATTACKS = new Set(['jailbreak', 'token_smuggling', 'rag_poisoning', 'system_manipulation', 'context_confusion', 'instruction_override', 'agent_manipulation', 'multi_turn', 'prompt_injection', 'response_manipulation', 'output_manipulation', 'persona_replacement', 'prompt_extraction', 'payload_injection'])
const SHELL = /`|\b(?:run|execute|bash|sh -c|python -c|eval|whoami|cat |rm -rf)\b/i

function giskard(): InjectionRow[] {
  const csv = show('Giskard-AI/prompt-injections', 'ce50a549dadc46b48c931250d2dd71d5f003c0c2', 'prompt_injections.csv')
  return parseDelimited(csv, { delimiter: ',', quotes: true }).slice(1).map((cells) => ({ text: cells[1]!, label: 1 as const, source: 'giskard', lang: cells[5] || 'en', style: cells[3] === 'Jailbreak' ? 'jailbreak' : 'hijacking' }))
}

function promptshield(): InjectionRow[] {
  const commit = '341e98e4f2141cb41cb3ab94f63252bfe45b10f1'
  const rows: InjectionRow[] = []
  for (const line of show('Neural-alchemy/promptshield', commit, 'ml_data/train.jsonl').split('\n')) {
    if (!line.trim()) continue
    const row = JSON.parse(line) as { prompt: string; label: number; attack_type: string }
    if (row.label === 1 && PROMPTSHIELD_ATTACKS.has(row.attack_type) && !SHELL.test(row.prompt)) {
      rows.push({ text: row.prompt, label: 1, source: 'promptshield', lang: 'en', style: row.attack_type })
    } else if (row.label === 0 && row.attack_type === 'edge_case') {
      // Benign requests that sound like attacks ("Let's roleplay a job interview"): all of them.
      rows.push({ text: row.prompt, label: 0, source: 'promptshield', lang: 'en', style: 'edge_case' })
    } else if (row.label === 0 && row.attack_type === 'benign' && rows.filter((r) => r.style === 'benign').length < 300) {
      rows.push({ text: row.prompt, label: 0, source: 'promptshield', lang: 'en', style: 'benign' })
    }
  }
  return rows
}

// Commits read: the manifest records the same ones.
const GARAK = { repo: 'NVIDIA/garak', commit: 'cafbe992780df70015de7295ca026b70c4629ada' }
const AWESOME = { repo: 'f/awesome-chatgpt-prompts', commit: '50a97c072933c93c76cc0714e9dd4c4cf1d80ae7' }
const GPTEACHER = { repo: 'teknium1/GPTeacher', commit: '481075123c29854bddb82655badeef6a438f2436' }
const SELF_INSTRUCT = { repo: 'yizhongw/self-instruct', commit: '0b26ccaa415992100fa32df62d41b994cf928e23' }

/**
 * Long prompts are cut at a word boundary before this many characters: the committed data stays
 * small, and the detector reads a long text through bounded windows anyway.
 */
const MAX_CHARS = 2_000
const clip = (text: string) => {
  const trimmed = text.trim()
  if (trimmed.length <= MAX_CHARS) return trimmed
  const cut = trimmed.slice(0, MAX_CHARS)
  return cut.slice(0, Math.max(cut.lastIndexOf(' '), MAX_CHARS - 200)).trimEnd()
}

/** In-the-wild jailbreak prompts (verazuo/jailbreak_llms, 2023-05-07, MIT) as garak ships them. */
function jailbreakLlms(): InjectionRow[] {
  const prompts = JSON.parse(show(GARAK.repo, GARAK.commit, 'garak/data/inthewild_jailbreak_llms.json')) as string[]
  return prompts.map((text) => ({ text: clip(text), label: 1 as const, source: 'jailbreak-llms', lang: 'en', style: 'jailbreak' }))
}

/** garak's own DAN-family jailbreaks and system-prompt extraction attacks (Apache-2.0). */
function garak(): InjectionRow[] {
  const rows: InjectionRow[] = []
  const dan = ['AntiDAN', 'ChatGPT_Developer_Mode_RANTI', 'ChatGPT_Developer_Mode_v2', 'ChatGPT_Image_Markdown', 'DAN_Jailbreak', 'DUDE', 'Dan_10_0', 'Dan_11_0', 'Dan_6_0', 'Dan_6_2', 'Dan_7_0', 'Dan_8_0', 'Dan_9_0', 'STAN']
  for (const name of dan) {
    for (const text of JSON.parse(show(GARAK.repo, GARAK.commit, `garak/data/dan/${name}.json`)) as string[]) {
      rows.push({ text: clip(text.replaceAll('{generator.name}', 'ChatGPT')), label: 1, source: 'garak', lang: 'en', style: 'jailbreak' })
    }
  }
  const extraction = JSON.parse(show(GARAK.repo, GARAK.commit, 'garak/data/sysprompt_extraction/attacks.json')) as Record<string, string[]>
  for (const texts of Object.values(extraction)) for (const text of texts) rows.push({ text, label: 1, source: 'garak', lang: 'en', style: 'prompt_extraction' })
  return rows
}

// Community prompts that are themselves jailbreaks ("Unconstrained AI model DAN") are not benign.
const JAILBREAK_MARKERS = /\b(?:jailbr\w*|DAN|do anything now|developer mode|unfiltered|uncensored|no (?:restrictions|filters|limitations|rules|morals|ethics)|without (?:any )?(?:restrictions|censorship|filters|limitations)|ignore (?:all |any )?(?:previous|prior|your|the above) (?:instructions|rules|guidelines))\b/i

/** Role and task prompts people write for chatbots ("I want you to act as a travel guide"), CC0. */
function awesomeChatgptPrompts(): InjectionRow[] {
  const [header, ...records] = parseDelimited(show(AWESOME.repo, AWESOME.commit, 'prompts.csv'), { delimiter: ',', quotes: true })
  const column = header!.indexOf('prompt')
  return records
    .map((cells) => cells[column] ?? '')
    .filter((text) => text.trim() && !JAILBREAK_MARKERS.test(text))
    .map((text) => ({ text: clip(text), label: 0 as const, source: 'awesome-chatgpt-prompts', lang: 'en', style: 'role_prompt' }))
}

/** Role-play instructions ("Imagine you are a detective in Victorian London…"), MIT. */
function gpteacherRoleplay(): InjectionRow[] {
  const rows = JSON.parse(show(GPTEACHER.repo, GPTEACHER.commit, 'Roleplay/roleplay-simple-deduped-roleplay-instruct.json')) as { instruction: string; input: string }[]
  return rows.map((row) => ({ text: clip([row.instruction, row.input].filter((part) => part.trim()).join('\n')), label: 0 as const, source: 'gpteacher-roleplay', lang: 'en', style: 'roleplay' }))
}

/** The 175 human-written seed tasks of Self-Instruct (instruction and input), Apache-2.0. */
function selfInstructSeeds(): InjectionRow[] {
  return show(SELF_INSTRUCT.repo, SELF_INSTRUCT.commit, 'data/seed_tasks.jsonl')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { instruction: string; instances: { input: string }[] })
    .map((task) => ({ text: clip([task.instruction, task.instances[0]?.input ?? ''].filter((part) => part.trim()).join('\n')), label: 0 as const, source: 'self-instruct', lang: 'en', style: 'task' }))
}

const key = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').trim()

/** Empty and repeated rows dropped, and rows `seen` already holds (other sources, evaluation sets). */
function dedupe(rows: InjectionRow[], seen: Set<string>): InjectionRow[] {
  return rows.filter((row) => {
    const k = key(row.text)
    if (!k || seen.has(k)) return false
    seen.add(k)
    return true
  })
}

// Evaluation-only sets (the cases written with the rules, Tensor Trust) are never copied.
const seen = new Set((await loadEvaluationOnlyRows(mirror)).map((row) => key(row.text)))
const sources: [string, () => InjectionRow[]][] = [
  ['giskard', giskard],
  ['promptshield', promptshield],
  ['garak', garak],
  ['jailbreak-llms', jailbreakLlms],
  ['awesome-chatgpt-prompts', awesomeChatgptPrompts],
  ['gpteacher-roleplay', gpteacherRoleplay],
  ['self-instruct', selfInstructSeeds],
]
for (const [name, read] of sources) {
  const kept = dedupe(read(), seen)
  writeFileSync(resolve(DATA_DIR, `${name}.jsonl`), kept.map((row) => JSON.stringify(row)).join('\n') + '\n')
  console.log(`${name}: ${kept.filter((r) => r.label === 1).length} attacks, ${kept.filter((r) => r.label === 0).length} benign`)
}
