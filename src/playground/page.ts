/**
 * playground/: The self-contained /playground page and its script.
 *
 * May import: nothing of this service.
 */
import { PLAYGROUND_SCRIPT } from './script.js'

const STYLE = `
:root{color-scheme:light;--ink:#1d2125;--muted:#5e6770;--line:#d8dee4;--panel:#f6f8fa;--allow:#137333;--review:#a15c00;--block:#b3261e}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--ink);background:#fff}
header{display:flex;align-items:baseline;gap:1rem;padding:.8rem 1.5rem;border-bottom:1px solid var(--line)}
header h1{font-size:1.2rem;margin:0}header nav{margin-left:auto;display:flex;gap:1rem}
main{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1.5rem;padding:1.2rem 1.5rem;max-width:1400px}
@media (max-width:900px){main{grid-template-columns:1fr}}
h2{font-size:1rem;margin:0 0 .5rem}h3{font-size:.95rem;margin:1rem 0 .3rem}
label{font-weight:600;display:block;margin:.6rem 0 .2rem}
textarea,input,select{font:inherit;width:100%;padding:.45rem .5rem;border:1px solid var(--line);border-radius:6px;background:#fff}
textarea{min-height:8rem;resize:vertical}
.row{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.drop{margin-top:.6rem;border:2px dashed var(--line);border-radius:8px;padding:1rem;text-align:center;color:var(--muted)}
.drop.over{border-color:#0969da;background:#eef5ff}
.drop input{display:none}.drop label{display:inline;color:#0969da;cursor:pointer;text-decoration:underline;font-weight:400}
.thumbs{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.5rem}
.thumb{display:flex;align-items:center;gap:.4rem;border:1px solid var(--line);border-radius:6px;padding:.25rem .4rem;font-size:.85rem}
.thumb img{width:40px;height:40px;object-fit:cover;border-radius:4px;background:var(--panel)}
button{font:inherit;border:1px solid var(--line);border-radius:6px;background:var(--panel);padding:.35rem .8rem;cursor:pointer}
button.primary{background:#0969da;color:#fff;border-color:#0969da;padding:.5rem 1.4rem;margin-top:1rem}
button:disabled{opacity:.6;cursor:wait}
.hint{color:var(--muted);font-size:.85rem;margin:.2rem 0}
.notice{padding:.6rem .8rem;border-radius:6px;margin:.8rem 0}.notice.error{background:#fdecea;color:var(--block);border:1px solid #f5c2bd}
.panel{border:1px solid var(--line);border-radius:8px;padding:1rem}
.badge{display:inline-block;font-weight:700;text-transform:uppercase;letter-spacing:.04em;color:#fff;background:var(--muted);border-radius:6px;padding:.2rem .7rem;font-size:1.1rem}
.badge.allow{background:var(--allow)}.badge.review{background:var(--review)}.badge.block{background:var(--block)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.8rem 0}dt{color:var(--muted)}dd{margin:0}
.chip{display:inline-block;background:#eef1f4;border-radius:999px;padding:0 .6rem;margin-right:.3rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .4rem;border-bottom:1px solid var(--line)}.num{font-variant-numeric:tabular-nums}
meter{width:100%}#scores td:nth-child(3){width:40%}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.7rem;overflow:auto;max-height:22rem;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;word-break:break-all}
.curlbar{display:flex;align-items:center;gap:.6rem}
`

const BODY = `<header><h1>moderation-service playground</h1><span class="hint">Try a text or an image against a policy and a latency budget.</span>
<nav><a href="/docs">API reference</a><a href="/openapi.json">OpenAPI</a></nav></header>
<main>
<section aria-labelledby="input-title">
<h2 id="input-title">Content</h2>
<form id="form">
<label for="text">Text</label>
<textarea id="text" name="text" placeholder="Paste a comment, a caption, a message..."></textarea>
<div id="drop" class="drop">Drop images here, paste them, or <label for="files">choose files</label>
<input id="files" type="file" accept="image/*" multiple></div>
<ul id="thumbs" class="thumbs" aria-label="Images to send"></ul>
<div class="row">
<div><label for="policy">Policy</label><select id="policy"></select></div>
<div><label for="budget">Budget (ms)</label><input id="budget" type="number" min="1" step="1" inputmode="numeric"></div>
</div>
<p id="policy-about" class="hint"></p>
<label for="key">API key <span class="hint">(only when the service requires one; kept in this tab only)</span></label>
<input id="key" type="password" autocomplete="off" spellcheck="false" placeholder="one of MODERATION_API_KEYS">
<button id="send" class="primary" type="submit">Moderate</button> <span id="status" class="hint" role="status"></span>
</form>
<p id="notice" class="notice error" role="alert" hidden></p>
<h3>The same request with curl</h3>
<div class="curlbar"><button id="copy" type="button">Copy</button><span id="copied" class="hint" hidden>Copied</span>
<span id="curl-key" class="hint" hidden>The key is not shown: export MODERATION_KEY=... first.</span></div>
<pre id="curl"></pre>
</section>
<section id="result" aria-live="polite" hidden>
<h2>Verdict</h2>
<div id="verdict" class="panel" hidden>
<span id="action" class="badge"></span> <span id="safe"></span>
<dl>
<dt>Categories</dt><dd id="categories"></dd>
<dt>Confidence</dt><dd id="confidence"></dd>
<dt>Source</dt><dd id="source"></dd>
<dt>Fallback reason</dt><dd id="fallback"></dd>
<dt>Signals</dt><dd id="signals"></dd>
<dt>Policy and model</dt><dd id="judged"></dd>
<dt>Verdict id</dt><dd id="ids"></dd>
</dl>
<h3>Latency against the budget</h3>
<meter id="latency-meter" min="0" max="1" value="0"></meter>
<p id="latency"></p><p id="round-trip" class="hint"></p>
<h3>Local scores</h3>
<table id="scores" hidden><thead><tr><th>category</th><th>score</th><th></th><th>review / block at</th></tr></thead><tbody id="scores-body"></tbody></table>
<p id="no-scores" class="hint">The embedded classifier read no text.</p>
</div>
<h3>Raw JSON</h3>
<pre id="raw"></pre>
</section>
</main>`

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  return btoa(String.fromCharCode(...digest))
}

/**
 * The playground page and the Content-Security-Policy that goes with it: only its own inline
 * script and style (by hash), requests to this origin, images from the files the user picks (blob:
 * URLs). Nothing is loaded from elsewhere, so it works offline and on Workers alike.
 *
 * @example
 * const { html, csp } = await renderPlaygroundPage()
 */
export async function renderPlaygroundPage(): Promise<{ html: string; csp: string }> {
  const [scriptHash, styleHash] = await Promise.all([sha256Base64(PLAYGROUND_SCRIPT), sha256Base64(STYLE)])
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}'`,
    `style-src 'sha256-${styleHash}'`,
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Playground: moderation-service</title><link rel="icon" href="data:,">
<style>${STYLE}</style>
</head><body>
${BODY}
<script>${PLAYGROUND_SCRIPT}</script>
</body></html>`
  return { html, csp }
}
