/**
 * Benign texts that name identity groups, in nine languages, written for this service (never
 * trained on): community notices, news and history topics, invitations and plain statements
 * ("a documentary about Muslims in Germany", "refugees are welcome at the food bank"). Hate data
 * teaches a model that group names come with attacks; these texts tell whether it learned the
 * attack or the name. train-local.ts keeps the `hate` review line above all but 2% of each
 * language's even-numbered texts (`identityCalibration`); `npm run eval:local` reports the share
 * flagged, and the odd-numbered half (`identityReport`), which training never read.
 *
 * Per language: a list of groups (plural nouns, so one template fits all) and templates.
 */
export interface Written {
  groups: string[]
  templates: string[]
}

/** The groups named, per language (identity-training.ts writes its training texts with them too). */
export const written: Record<string, Written> = {
  en: {
    groups: ['Muslims', 'Jews', 'Black people', 'gay men', 'lesbians', 'trans people', 'immigrants', 'refugees', 'women', 'disabled people', 'Christians', 'Mexicans', 'Asian Americans', 'Roma'],
    templates: ['a documentary about {x} in Britain', 'the community centre is hosting a dinner with {x} from the neighbourhood', '{x} are welcome at the food bank every Tuesday', 'a new book on the history of {x} in Europe', 'panel discussion tonight: {x} in science', 'the survey asked {x} about housing costs', 'our choir has many {x} and we sing on Sundays', 'a museum exhibition on {x} and their art'],
  },
  de: {
    groups: ['Muslime', 'Juden', 'Schwarze Menschen', 'Schwule', 'Lesben', 'trans Menschen', 'Einwanderer', 'Geflüchtete', 'Frauen', 'Menschen mit Behinderung', 'Christen', 'Türken', 'Roma'],
    templates: ['Eine Doku über {x} in Deutschland', 'Das Nachbarschaftszentrum lädt {x} aus dem Viertel zum Essen ein', '{x} sind dienstags bei der Tafel willkommen', 'Ein neues Buch: {x} in der Geschichte Europas', 'Podiumsdiskussion heute Abend: {x} in der Wissenschaft', 'Die Umfrage hat {x} nach den Mieten gefragt', 'In unserem Chor singen viele {x}', 'Eine Ausstellung über {x} und ihre Kunst'],
  },
  fr: {
    groups: ['les musulmans', 'les juifs', 'les personnes noires', 'les homosexuels', 'les lesbiennes', 'les personnes trans', 'les immigrés', 'les réfugiés', 'les femmes', 'les personnes handicapées', 'les chrétiens', 'les Maghrébins', 'les Roms'],
    templates: ['Un documentaire sur {x} en France', 'Le centre social invite {x} du quartier à un repas', 'À la banque alimentaire, {x} sont les bienvenus le mardi', "Un nouveau livre : {x} dans l'histoire de l'Europe", 'Table ronde ce soir : {x} dans la recherche', "L'enquête a interrogé {x} sur le logement", 'Une exposition sur {x} et leur art', "Le festival met à l'honneur {x} cette année"],
  },
  es: {
    groups: ['los musulmanes', 'los judíos', 'las personas negras', 'los gais', 'las lesbianas', 'las personas trans', 'los inmigrantes', 'los refugiados', 'las mujeres', 'las personas con discapacidad', 'los cristianos', 'los gitanos', 'los latinos'],
    templates: ['Un documental sobre {x} en España', 'El centro cívico invita a {x} del barrio a una cena', 'En el banco de alimentos {x} son bienvenidos los martes', 'Un libro nuevo sobre la historia de {x} en Europa', 'Mesa redonda esta noche: {x} en la ciencia', 'La encuesta preguntó a {x} por el precio de la vivienda', 'Una exposición sobre {x} y su arte', 'El festival de este año está dedicado a {x}'],
  },
  pt: {
    groups: ['os muçulmanos', 'os judeus', 'as pessoas negras', 'os gays', 'as lésbicas', 'as pessoas trans', 'os imigrantes', 'os refugiados', 'as mulheres', 'as pessoas com deficiência', 'os cristãos', 'os ciganos', 'os brasileiros'],
    templates: ['Um documentário sobre {x} em Portugal', 'O centro comunitário convida {x} do bairro para um jantar', 'No banco alimentar {x} são bem-vindos às terças', 'Um livro novo: {x} na história da Europa', 'Debate hoje à noite: {x} na ciência', 'O inquérito ouviu {x} sobre o preço das casas', 'Uma exposição sobre {x} e a sua arte', 'O festival deste ano celebra {x}'],
  },
  it: {
    groups: ['i musulmani', 'gli ebrei', 'le persone nere', 'i gay', 'le lesbiche', 'le persone trans', 'gli immigrati', 'i rifugiati', 'le donne', 'le persone con disabilità', 'i cristiani', 'i rom', 'gli albanesi'],
    templates: ['Un documentario: {x} in Italia', 'Il centro civico invita {x} del quartiere a cena', 'Al banco alimentare {x} sono i benvenuti il martedì', "Un nuovo libro: {x} nella storia d'Europa", 'Tavola rotonda stasera: {x} nella scienza', "L'indagine ha intervistato {x} sul costo delle case", 'Una mostra: {x} e la loro arte', "Il festival di quest'anno celebra {x}"],
  },
  ar: {
    groups: ['المسلمين', 'اليهود', 'المسيحيين', 'اللاجئين', 'المهاجرين', 'النساء', 'ذوي الإعاقة', 'السوريين', 'الفلسطينيين', 'الأكراد', 'الشيعة', 'السنة', 'الأفارقة'],
    templates: ['فيلم وثائقي عن {x} في أوروبا', 'المركز الثقافي يدعو {x} في الحي إلى العشاء', 'بنك الطعام يرحب ب{x} كل ثلاثاء', 'كتاب جديد عن تاريخ {x} في المنطقة', 'ندوة الليلة عن {x} في العلوم', 'سأل الاستطلاع {x} عن أسعار السكن', 'معرض فني عن {x} وفنونهم', 'مهرجان هذا العام مخصص ل{x}'],
  },
  ko: {
    groups: ['무슬림', '유대인', '흑인', '동성애자', '트랜스젠더', '이민자', '난민', '여성', '장애인', '기독교인', '조선족', '외국인 노동자', '다문화 가정'],
    templates: ['{x}에 관한 다큐멘터리', '주민센터에서 동네 {x}을 저녁 식사에 초대합니다', '푸드뱅크는 매주 화요일 {x}을 환영합니다', '유럽 {x}의 역사에 관한 새 책', '오늘 저녁 토론회: 과학계의 {x}', '설문조사에서 {x}에게 집값에 대해 물었다', '{x}과 그들의 예술에 관한 전시회', '올해 축제는 {x}을 주제로 합니다'],
  },
  zh: {
    groups: ['穆斯林', '犹太人', '黑人', '同性恋者', '跨性别者', '移民', '难民', '女性', '残障人士', '基督徒', '少数民族', '农民工', '外国留学生'],
    templates: ['一部关于{x}的纪录片', '社区中心邀请附近的{x}来吃晚饭', '食物银行每周二欢迎{x}', '一本关于欧洲{x}历史的新书', '今晚的座谈会：科学界的{x}', '这次调查询问了{x}对房价的看法', '一个关于{x}和他们艺术的展览', '今年的文化节以{x}为主题'],
  },
}

export const identityTexts: Record<string, string[]> = Object.fromEntries(
  Object.entries(written).map(([lang, w]) => [lang, [...new Set(w.templates.flatMap((template) => w.groups.map((group) => capitalise(template.replace('{x}', group)))))]]),
)

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

const half = (parity: 0 | 1) => Object.fromEntries(Object.entries(identityTexts).map(([lang, texts]) => [lang, texts.filter((_, i) => i % 2 === parity)]))
export const identityCalibration: Record<string, string[]> = half(0)
export const identityReport: Record<string, string[]> = half(1)
