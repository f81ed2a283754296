/**
 * The playground's script, inlined into its page (allowed by the page's CSP through its hash).
 * Everything that comes from the service or the user goes into the page through textContent and
 * DOM properties: never innerHTML. (String.raw: the backslashes below are the script's own.)
 */
export const PLAYGROUND_SCRIPT = String.raw`'use strict'
;(() => {
  const KEY_STORE = 'moderation-playground-key'
  const ACTIONS = ['allow', 'review', 'block']
  const el = (id) => document.getElementById(id)
  const form = el('form'), text = el('text'), files = el('files'), drop = el('drop'), thumbs = el('thumbs')
  const policy = el('policy'), budget = el('budget'), key = el('key'), send = el('send'), notice = el('notice'), curl = el('curl')
  const images = []
  let policies = new Map()

  const make = (tag, className, content) => {
    const node = document.createElement(tag)
    if (className) node.className = className
    if (content !== undefined) node.textContent = String(content)
    return node
  }
  const say = (message, kind) => {
    notice.textContent = message || ''
    notice.className = 'notice ' + (kind || 'error')
    notice.hidden = !message
  }
  const storedKey = () => { try { return sessionStorage.getItem(KEY_STORE) || '' } catch { return '' } }
  const storeKey = (value) => { try { value ? sessionStorage.setItem(KEY_STORE, value) : sessionStorage.removeItem(KEY_STORE) } catch {} }
  const auth = (extra) => {
    const headers = Object.assign({}, extra)
    if (key.value.trim()) headers.authorization = 'Bearer ' + key.value.trim()
    return headers
  }
  const askForKey = () => {
    say(key.value.trim()
      ? 'The service refused this API key (401 unauthorized). Check the key in the API key field.'
      : 'This service requires an API key (401 unauthorized). Paste one of its keys (MODERATION_API_KEYS) in the API key field, then try again.')
    key.focus()
  }
  const kib = (bytes) => (bytes < 1024 ? bytes + ' B' : (bytes / 1024).toFixed(1) + ' KiB')

  async function loadPolicies() {
    let res
    try {
      res = await fetch('/v1/policies', { headers: auth() })
    } catch (error) {
      say('The service did not answer: ' + error.message)
      return
    }
    if (res.status === 401) {
      askForKey()
      fillPolicies([], '')
      return
    }
    if (!res.ok) return say('GET /v1/policies answered HTTP ' + res.status)
    const list = await res.json()
    if (!notice.hidden && notice.className.includes('error')) say('')
    fillPolicies(list.policies, list.default)
  }

  function fillPolicies(list, fallback) {
    const previous = policy.value
    policies = new Map(list.map((p) => [p.name, p]))
    policy.replaceChildren()
    if (!list.length) policy.append(Object.assign(make('option', '', '(the service default)'), { value: '' }))
    for (const p of list) policy.append(Object.assign(make('option', '', p.name + (p.name === fallback ? ' (default)' : '')), { value: p.name }))
    policy.value = policies.has(previous) ? previous : policies.has(fallback) ? fallback : policy.options[0] ? policy.options[0].value : ''
    policyChanged()
  }

  function policyChanged() {
    const p = policies.get(policy.value)
    budget.placeholder = p ? p.budget_ms + ' (the policy default)' : 'the policy default'
    p ? (budget.max = String(p.budget_ms)) : budget.removeAttribute('max')
    el('policy-about').textContent = p ? p.description + ' On failure: ' + p.on_failure + '. Judged by ' + p.provider + ' (' + p.model + ').' : ''
    updateCurl()
  }

  function addFiles(list) {
    for (const file of Array.from(list)) {
      if (!file.type.startsWith('image/')) {
        say(file.name + ' is not an image')
        continue
      }
      images.push({ file, url: URL.createObjectURL(file) })
    }
    showThumbs()
    updateCurl()
  }

  function showThumbs() {
    thumbs.replaceChildren()
    images.forEach((image, index) => {
      const item = make('li', 'thumb')
      const img = make('img')
      img.src = image.url
      img.alt = image.file.name
      const remove = make('button', 'remove', 'Remove')
      remove.type = 'button'
      remove.addEventListener('click', () => {
        URL.revokeObjectURL(image.url)
        images.splice(index, 1)
        showThumbs()
        updateCurl()
      })
      item.append(img, make('span', 'name', image.file.name + ' \u00b7 ' + kib(image.file.size)), remove)
      thumbs.append(item)
    })
  }

  // Text alone goes as JSON; with images, as multipart (files as they are, no base64).
  function jsonBody() {
    const body = {}
    if (text.value) body.text = text.value
    if (policy.value) body.policy = policy.value
    if (budget.value.trim()) body.budget_ms = Number(budget.value)
    return JSON.stringify(body)
  }

  function buildRequest() {
    if (!images.length) return { method: 'POST', headers: auth({ 'content-type': 'application/json' }), body: jsonBody() }
    const body = new FormData()
    if (text.value) body.append('text', text.value)
    for (const image of images) body.append('image', image.file, image.file.name)
    if (policy.value) body.append('policy', policy.value)
    if (budget.value.trim()) body.append('budget_ms', budget.value.trim())
    return { method: 'POST', headers: auth(), body }
  }

  const quote = (value) => "'" + String(value).replace(/'/g, "'\\''") + "'"
  // curl's -F reads ; and , in a file name as its own syntax unless the name is double-quoted.
  const curlFile = (name) => (/[;,"\\]/.test(name) ? '"' + name.replace(/["\\]/g, '\\$&') + '"' : name)

  function updateCurl() {
    const lines = ['curl -s ' + quote(location.origin + '/v1/moderate')]
    if (key.value.trim()) lines.push('-H "authorization: Bearer $MODERATION_KEY"')
    if (images.length) {
      if (text.value) lines.push('--form-string ' + quote('text=' + text.value))
      for (const image of images) lines.push('-F ' + quote('image=@' + curlFile(image.file.name)))
      if (policy.value) lines.push('--form-string ' + quote('policy=' + policy.value))
      if (budget.value.trim()) lines.push('--form-string ' + quote('budget_ms=' + budget.value.trim()))
    } else {
      lines.push("-H 'content-type: application/json'", '-d ' + quote(jsonBody()))
    }
    curl.textContent = lines.join(' \\\n  ')
    el('curl-key').hidden = !key.value.trim()
  }

  function showRaw(value) {
    el('raw').textContent = JSON.stringify(value, null, 2)
    el('result').hidden = false
  }

  function showVerdict(v, roundTripMs, requestId) {
    el('verdict').hidden = false
    const action = el('action')
    action.textContent = v.action
    action.className = 'badge ' + (ACTIONS.includes(v.action) ? v.action : '')
    el('safe').textContent = v.safe ? 'safe' : 'not safe'
    const categories = el('categories')
    categories.replaceChildren(...(v.categories.length ? v.categories.map((c) => make('span', 'chip', c)) : [make('span', '', 'none')]))
    el('confidence').textContent = Number(v.confidence).toFixed(2)
    el('source').textContent = v.source
    el('fallback').textContent = v.fallback_reason || 'none'
    el('signals').textContent = v.signals && v.signals.length ? v.signals.join(', ') : 'none'
    el('judged').textContent = v.policy + ' (version ' + v.policy_version + '), model ' + v.model
    el('ids').textContent = v.id + (requestId ? ' \u00b7 request ' + requestId : '')
    showScores(v)
    const meter = el('latency-meter')
    meter.max = v.budget_ms
    meter.low = v.budget_ms * 0.5
    meter.high = v.budget_ms * 0.9
    meter.optimum = 0
    meter.value = Math.min(v.latency_ms, v.budget_ms)
    const share = Math.round((v.latency_ms / v.budget_ms) * 100)
    el('latency').textContent = v.latency_ms + ' ms of a ' + v.budget_ms + ' ms budget (' + share + '%): ' + (v.latency_ms <= v.budget_ms ? 'within budget' : 'over budget')
    el('round-trip').textContent = 'Round trip seen by this page: ' + roundTripMs + ' ms'
    showRaw(v)
  }

  function showScores(v) {
    const body = el('scores-body')
    body.replaceChildren()
    const scores = Object.entries(v.local_scores || {})
    el('scores').hidden = !scores.length
    el('no-scores').hidden = scores.length > 0
    const p = policies.get(v.policy)
    const thresholds = new Map(p && p.local_classifier ? p.local_classifier.categories.map((c) => [c.name, c]) : [])
    for (const [name, score] of scores) {
      const row = make('tr')
      const bar = make('meter')
      bar.min = 0
      bar.max = 1
      bar.value = score
      const t = thresholds.get(name)
      if (t) Object.assign(bar, { low: t.review_at, high: t.block_at, optimum: 0 })
      const cell = make('td')
      cell.append(bar)
      row.append(make('td', '', name), make('td', 'num', score.toFixed(3)), cell, make('td', 'num', t ? t.review_at + ' / ' + t.block_at : ''))
      body.append(row)
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    if (!text.value.trim() && !images.length) return say('Type a text or add an image first.')
    say('')
    send.disabled = true
    el('status').textContent = 'Judging\u2026'
    const started = performance.now()
    try {
      const res = await fetch('/v1/moderate', buildRequest())
      const raw = await res.text()
      const roundTrip = Math.round(performance.now() - started)
      el('verdict').hidden = true
      if (res.status === 401) return askForKey()
      let body
      try {
        body = JSON.parse(raw)
      } catch {
        return say('HTTP ' + res.status + ': the answer is not JSON')
      }
      if (!res.ok) {
        const error = body.error || {}
        say('HTTP ' + res.status + ' ' + (error.code || '') + ': ' + (error.message || raw) + (error.request_id ? ' (request ' + error.request_id + ')' : ''))
        return showRaw(body)
      }
      showVerdict(body, roundTrip, res.headers.get('x-request-id'))
    } catch (error) {
      say('The service did not answer: ' + error.message)
    } finally {
      send.disabled = false
      el('status').textContent = ''
    }
  })

  el('copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(curl.textContent)
    } catch {
      const range = document.createRange()
      range.selectNodeContents(curl)
      getSelection().removeAllRanges()
      getSelection().addRange(range)
      document.execCommand('copy')
    }
    el('copied').hidden = false
    setTimeout(() => (el('copied').hidden = true), 1500)
  })

  files.addEventListener('change', () => {
    addFiles(files.files)
    files.value = ''
  })
  drop.addEventListener('dragover', (event) => {
    event.preventDefault()
    drop.classList.add('over')
  })
  drop.addEventListener('dragleave', () => drop.classList.remove('over'))
  drop.addEventListener('drop', (event) => {
    event.preventDefault()
    drop.classList.remove('over')
    addFiles(event.dataTransfer.files)
  })
  // A file dropped beside the zone would make the browser open it and leave the page.
  window.addEventListener('dragover', (event) => event.preventDefault())
  window.addEventListener('drop', (event) => event.preventDefault())
  document.addEventListener('paste', (event) => {
    if (event.clipboardData && event.clipboardData.files.length) addFiles(event.clipboardData.files)
  })
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit()
  })
  text.addEventListener('input', updateCurl)
  budget.addEventListener('input', updateCurl)
  policy.addEventListener('change', policyChanged)
  key.addEventListener('input', updateCurl)
  key.addEventListener('change', () => {
    storeKey(key.value.trim())
    loadPolicies()
  })

  key.value = storedKey()
  updateCurl()
  loadPolicies()
})()
`
