/**
 * Spots content that addresses the moderator instead of an audience: orders to ignore the rules
 * or to answer "safe", fake verdicts, role-play of the system. Such content must never be
 * allowed on the model's word alone (the model may have obeyed it). Patterns per language, kept
 * narrow: a text that merely mentions instructions or safety is not flagged.
 */
const PATTERNS: RegExp[] = [
  // English
  /\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.!?\n]{0,40}\b(?:previous|prior|above|earlier|all|any|your|the|these|system|moderation|safety)\b[^.!?\n]{0,25}\b(?:instructions?|rules?|guidelines?|polic(?:y|ies)|prompts?|directives?|filters?)\b/i,
  /\b(?:you are|you're|act as|pretend to be|role-?play as|from now on you are)\b[^.!?\n]{0,40}\b(?:moderator|classifier|system|admin|developer mode|dan|unfiltered|jailbroken)\b/i,
  /\b(?:respond|answer|reply|output|return|print|say|classify|label|mark|rate|flag|tag|judge|treat|consider)\b[^.!?\n]{0,40}\b(?:as|with|is|that)\b[^.!?\n]{0,15}["'`]?(?:safe|allowed|acceptable|approved|harmless|clean|not harmful|compliant)\b/i,
  /\b(?:this|the following|the above|my)\s+(?:content|message|post|text|comment|image)\s+(?:is|was)\s+(?:(?:already|pre-?)\s*)?(?:approved|verified|cleared|whitelisted|exempt)\b/i,
  /["']?safe["']?\s*:\s*true/i,
  /["']?(?:action|verdict)["']?\s*:\s*["']?(?:allow|safe|approve)/i,
  /\b(?:system|developer|admin)\s*(?:prompt|message|override|instruction|mode)\s*[:\]>]/i,
  /<\|?\s*(?:system|im_start|im_end|endoftext|assistant)\s*\|?>|\[\/?(?:system|inst|assistant)\]|^\s*#{2,}\s*(?:system|instruction|new rules)/im,
  /\b(?:new|updated|real|actual|true)\s+(?:instructions?|rules?|system prompt|task)\s*[:\-]/i,
  // German
  /\b(?:ignorier(?:e|en|t)?|vergiss|missachte|übergehe?)\b[^.!?\n]{0,40}\b(?:anweisungen|regeln|richtlinien|vorgaben|instruktionen)\b/i,
  /\b(?:antworte|bewerte|markiere|stufe|klassifiziere|gib)\b[^.!?\n]{0,40}\b(?:als|mit)\b[^.!?\n]{0,15}\b(?:sicher|unbedenklich|harmlos|erlaubt|safe)\b/i,
  // French
  /\b(?:ignore[zr]?|oublie[zr]?|néglige[zr]?)\b[^.!?\n]{0,40}\b(?:instructions|règles|consignes|directives)\b/i,
  /\b(?:réponds|répondez|classe[zr]?|marque[zr]?|considère[zr]?|évalue[zr]?)\b[^.!?\n]{0,40}\b(?:comme|par|avec|que)\b[^.!?\n]{0,15}\b(?:sûr|sure|inoffensif|acceptable|autorisé|safe)\b/i,
  // Spanish and Portuguese
  /\b(?:ignora|ignore|olvida|esquece|desconsidera)\b[^.!?\n]{0,40}\b(?:instrucciones|instruções|reglas|regras|normas|directrices)\b/i,
  /\b(?:responde|contesta|marca|clasifica|classifique|marque|responda)\b[^.!?\n]{0,40}\b(?:como|con|com)\b[^.!?\n]{0,15}\b(?:seguro|segura|inofensivo|aceptable|aceitável|permitido|safe)\b/i,
  // Korean
  /(?:이전|위의|모든|앞의)?\s*(?:지시|지침|규칙|명령|프롬프트)[을를은는]?\s*(?:모두\s*)?(?:무시|잊어)/,
  /(?:안전|문제\s*없음|허용)(?:하다|한다|함|이라|으로|라고)[^.!?\n]{0,12}(?:답|응답|분류|표시|판단)/,
  // Chinese
  /(?:忽略|无视|忘记|不要理会|忽视)[^。！？\n]{0,12}(?:指令|指示|规则|提示|要求|说明)/,
  /(?:回答|回复|输出|标记|判定|分类|认定)[^。！？\n]{0,12}(?:安全|无害|合规|通过)/,
  /(?:你现在是|扮演|假装你是)[^。！？\n]{0,12}(?:审核|系统|管理员|开发者)/,
  // Arabic
  /(?:تجاهل|انس|تخطى)[^.!؟\n]{0,30}(?:التعليمات|القواعد|الإرشادات|الأوامر)/,
  /(?:أجب|صنف|اعتبر|ضع علامة)[^.!؟\n]{0,30}(?:آمن|آمنة|مسموح|مقبول)/,
]

/** Whether text tries to instruct the moderator. */
export function detectPromptInjection(text: string | undefined): boolean {
  if (!text) return false
  const normalized = text.normalize('NFKC').replace(/[\u200b-\u200d\u2060\ufeff\u00ad]/g, '')
  return PATTERNS.some((pattern) => pattern.test(normalized))
}
