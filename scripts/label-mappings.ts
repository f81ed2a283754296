/**
 * How each set's upstream labels map onto the service's two heads (the table is in the header of
 * `local-data.ts`). `undefined` leaves the row out; a null head says the row tells nothing about it.
 * `hate`: attacks on groups or identity. `harassment`: insults, offensive and abusive language.
 */
export type Label = 0 | 1 | null
export type Mapped = { lang: string; hate: Label; harassment: Label; identityNeutral?: boolean } | undefined
type Labels = Record<string, unknown>

const safe = (lang: string): Mapped => ({ lang, hate: 0, harassment: 0 })
const offensive = (lang: string): Mapped => ({ lang, hate: 0, harassment: 1 })
const hateOnly = (lang: string, hate: Label): Mapped => ({ lang, hate, harassment: null })

// K-MHaS label numbers: 0 origin, 1 physical, 2 politics, 3 profanity, 4 age, 5 gender, 6 race, 7 religion, 8 not hate.
function kmhas(l: Labels): Mapped {
  const labels = String(l.label).split(',').map((value) => value.trim())
  if (labels.includes('8')) return labels.length === 1 ? safe('ko') : undefined
  const identity = labels.some((value) => value !== '3')
  if (!identity) return offensive('ko')
  return { lang: 'ko', hate: 1, harassment: labels.includes('3') ? 1 : null }
}

function olid(l: Labels): Mapped {
  if (l.subtask_a === 'NOT') return safe('en')
  if (l.subtask_a !== 'OFF') return undefined
  return l.subtask_c === 'GRP' ? { lang: 'en', hate: null, harassment: 1 } : offensive('en')
}

export const MAPPINGS: Record<string, (labels: Labels) => Mapped> = {
  // ../shared/datasets
  davidson_hate_offensive: (l) =>
    l.class_name === 'hate_speech' ? hateOnly('en', 1) : l.class_name === 'offensive_language' ? hateOnly('en', 0) : safe('en'),
  mlma_hate_speech: (l) => {
    const labels = (l.sentiment_labels as string[] | undefined) ?? String(l.sentiment).split('_')
    const lang = String(l.language)
    const normal = labels.includes('normal')
    if (normal && labels.length === 1) return safe(lang)
    if (normal) return undefined
    if (labels.includes('hateful')) return hateOnly(lang, 1)
    return { lang, hate: null, harassment: 1 }
  },
  germeval2018: (l) => {
    if (l.task2 === 'ABUSE') return hateOnly('de', 1)
    if (l.task2 === 'INSULT') return { lang: 'de', hate: null, harassment: 1 }
    if (l.task2 === 'PROFANITY') return undefined
    return safe('de')
  },
  korean_hate_speech: (l) => (l.hate === 'hate' ? hateOnly('ko', 1) : l.hate === 'offensive' ? offensive('ko') : safe('ko')),
  cold_chinese_offensive: (l) => (String(l.label) === '1' ? hateOnly('zh', 1) : safe('zh')),
  toxigen_demonstrations: (l) => (l.label === 'hate' ? hateOnly('en', 1) : { ...safe('en')!, identityNeutral: true }),
  // public sets (scripts/public-manifest.ts)
  olid_en: olid,
  dynahate_en: (l) => hateOnly('en', l.label === '1' ? 1 : 0),
  mhs_en: (l) => hateOnly('en', l.label === '1' ? 1 : 0),
  fortuna_pt: (l) => hateOnly('pt', l.label === '1' ? 1 : 0),
  cold_train_zh: (l) => (String(l.label) === '1' ? { lang: 'zh', hate: 1, harassment: 1 } : safe('zh')),
  kmhas_ko: kmhas,
  german_hs_de: (l) => (l.label === 'hs' ? hateOnly('de', 1) : l.label === 'p' ? offensive('de') : l.label === 'n' ? safe('de') : undefined),
  lhsab_ar: (l) =>
    l.Class === 'hate' ? { lang: 'ar', hate: 1, harassment: 1 } : l.Class === 'abusive' ? offensive('ar') : l.Class === 'normal' ? safe('ar') : undefined,
  osact2022_ar: (l) => {
    if (l.Offensive === 'NOT_OFF') return safe('ar')
    if (l.Offensive !== 'OFF') return undefined
    return String(l.Hate).startsWith('HS') ? { lang: 'ar', hate: 1, harassment: 1 } : offensive('ar')
  },
}

/**
 * Leave-one-source-out ids of the shared sets whose upstream collection a public set also draws
 * from (the public sets name theirs in meta.json): COLD's dev split here, its train split there.
 */
export const SOURCE_OF: Record<string, string> = { cold_chinese_offensive: 'cold' }
