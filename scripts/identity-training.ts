/**
 * Neutral training texts that name identity groups, written for this service in nine languages:
 * the groups of the identity probe (identity-texts.ts) in other sentences (work, school, sport,
 * health, statistics, holidays). Hate sets are full of group names next to attacks, and their
 * neutral rows rarely name a group in an everyday sentence, so a model learns the name instead
 * of the attack ("Jews are welcome at the food bank" scored hate 0.85); these rows, weighted as
 * hard negatives (ToxiGen's neutral rows are the others), tell it otherwise. Their sentences
 * share no template with the probe, which measures whether the lesson carries to new sentences.
 * All in the training split; a source with no positives, so leave-one-source-out has nothing to
 * score on it.
 */
import type { Row } from './local-data.js'
import { written } from './identity-texts.js'

export const IDENTITY_TRAINING_SET = 'written_identity_neutral'

const templates: Record<string, string[]> = {
  en: ['{x} live in every part of this city', 'I met some {x} at the conference last week', 'the article interviews {x} about their work', 'a support group for {x} meets on Fridays', 'statistics on {x} in the workforce', 'the school welcomes {x} and their families', 'a film festival featuring {x} opens tomorrow', 'the history lesson today was about {x}', 'the clinic offers free check-ups, {x} included', 'the football club has many {x} in its youth team', 'new research on the health of {x}', 'the city council met with {x} to talk about parks'],
  de: ['{x} leben in allen Teilen dieser Stadt', 'Ich habe auf der Konferenz einige {x} kennengelernt', 'Der Artikel befragt {x} zu ihrer Arbeit', 'Eine Selbsthilfegruppe für {x} trifft sich freitags', 'Statistik: {x} auf dem Arbeitsmarkt', 'Die Schule begrüßt {x} und ihre Familien', 'Ein Filmfestival mit {x} beginnt morgen', 'Im Geschichtsunterricht ging es heute um {x}', 'Die Praxis bietet kostenlose Vorsorge, auch für {x}', 'Im Fußballverein spielen viele {x} in der Jugend', 'Neue Studie zur Gesundheit: {x} im Alter', 'Der Stadtrat hat mit {x} über die Parks gesprochen'],
  fr: ['{x} vivent dans tous les quartiers de la ville', "J'ai rencontré {x} au colloque la semaine dernière", "L'article donne la parole à {x} sur leur travail", 'Un groupe de parole pour {x} se réunit le vendredi', "Statistiques : {x} sur le marché de l'emploi", "L'école accueille {x} et leurs familles", 'Un festival de cinéma avec {x} commence demain', "Le cours d'histoire portait aujourd'hui sur {x}", 'Le centre de santé propose des bilans gratuits, {x} compris', 'Le club de foot compte {x} parmi ses jeunes', 'Nouvelle étude : la santé et {x}', 'Le conseil municipal a reçu {x} pour parler des parcs'],
  es: ['{x} viven en todos los barrios de la ciudad', 'Conocí a {x} en el congreso la semana pasada', 'El artículo entrevista a {x} sobre su trabajo', 'Un grupo de apoyo para {x} se reúne los viernes', 'Estadísticas: {x} en el mercado laboral', 'El colegio da la bienvenida a {x} y sus familias', 'Mañana empieza un festival de cine con {x}', 'La clase de historia de hoy fue sobre {x}', 'El centro de salud ofrece revisiones gratis, también a {x}', 'El club de fútbol tiene a {x} en su cantera', 'Nuevo estudio sobre la salud y {x}', 'El ayuntamiento se reunió con {x} para hablar de los parques'],
  pt: ['{x} vivem em todos os bairros da cidade', 'Conheci {x} no congresso da semana passada', 'O artigo entrevista {x} sobre o seu trabalho', 'Um grupo de apoio para {x} reúne-se às sextas', 'Estatísticas: {x} no mercado de trabalho', 'A escola acolhe {x} e as suas famílias', 'Amanhã começa um festival de cinema com {x}', 'A aula de história de hoje foi sobre {x}', 'O centro de saúde faz consultas gratuitas, também para {x}', 'O clube de futebol tem {x} na formação', 'Novo estudo sobre a saúde e {x}', 'A câmara reuniu-se com {x} para falar dos parques'],
  it: ['{x} vivono in tutti i quartieri della città', 'Ho conosciuto {x} al convegno la settimana scorsa', "L'articolo intervista {x} sul loro lavoro", 'Un gruppo di sostegno per {x} si riunisce il venerdì', 'Statistiche: {x} nel mondo del lavoro', 'La scuola accoglie {x} e le loro famiglie', 'Domani inizia un festival del cinema con {x}', 'La lezione di storia di oggi era su {x}', 'Il consultorio offre visite gratuite, anche per {x}', 'La squadra di calcio ha {x} nelle giovanili', 'Nuovo studio sulla salute e {x}', 'Il consiglio comunale ha incontrato {x} per parlare dei parchi'],
  ar: ['يعيش {x} في كل أحياء المدينة', 'تعرفت على {x} في المؤتمر الأسبوع الماضي', 'المقال يحاور {x} عن عملهم', 'مجموعة دعم ل{x} تجتمع كل جمعة', 'إحصاءات عن {x} في سوق العمل', 'المدرسة ترحب ب{x} وعائلاتهم', 'مهرجان سينمائي مع {x} يبدأ غدا', 'كان درس التاريخ اليوم عن {x}', 'العيادة تقدم فحوصات مجانية تشمل {x}', 'في نادي كرة القدم كثير من {x} في فريق الناشئين', 'دراسة جديدة عن صحة {x}', 'التقى المجلس البلدي ب{x} للحديث عن الحدائق'],
  ko: ['{x}은 이 도시 곳곳에 살고 있다', '지난주 학회에서 {x}을 만났다', '이 기사는 {x}의 일에 대해 인터뷰했다', '{x}을 위한 모임이 금요일마다 열린다', '노동시장 속 {x} 통계', '학교는 {x}과 그 가족을 환영한다', '{x}이 참여하는 영화제가 내일 시작한다', '오늘 역사 수업은 {x}에 관한 것이었다', '보건소는 {x}을 포함해 무료 검진을 한다', '축구 클럽 유소년 팀에 {x}이 많다', '{x}의 건강에 관한 새 연구', '시의회가 공원 문제로 {x}을 만났다'],
  zh: ['{x}生活在这座城市的各个角落', '上周在会议上认识了几位{x}', '这篇文章采访了{x}的工作', '每周五有一个{x}互助小组', '关于{x}就业情况的统计', '学校欢迎{x}和他们的家人', '明天开幕的电影节有{x}参加', '今天的历史课讲的是{x}', '诊所为包括{x}在内的居民提供免费体检', '足球俱乐部的青年队里有不少{x}', '一项关于{x}健康的新研究', '市议会与{x}讨论公园的事'],
}

export function identityTrainingRows(): Row[] {
  return Object.entries(templates).flatMap(([lang, list]) =>
    list.flatMap((template, t) =>
      written[lang]!.groups.map((group, g): Row => {
        const text = template.replace('{x}', group)
        return {
          id: `${lang}-${t}-${g}`,
          text: text.charAt(0).toUpperCase() + text.slice(1),
          lang,
          set: IDENTITY_TRAINING_SET,
          source: IDENTITY_TRAINING_SET,
          labels: { hate: 0, harassment: 0 },
          identityNeutral: true,
          split: 'train',
        }
      }),
    ),
  )
}
