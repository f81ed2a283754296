/**
 * Everyday benign texts in nine languages, written for this service (not taken from any data
 * set, never used for training): greetings, captions, comments ("first comment", "great post"),
 * replies, product and travel talk. The false-positive probe of `npm run eval:local`: the share
 * of them reaching `review_at` should stay at or under 2% in every language.
 *
 * Per language: written phrases, then captions and questions made from a few written templates
 * and a list of places and a list of things (so every language has at least 200 texts).
 * train-local.ts keeps `review_at` above all but 2% of each language's even-numbered texts
 * (`everydayCalibration`); the odd-numbered ones (`everydayReport`) were never looked at by it.
 */
interface Written {
  phrases: string[]
  places: string[]
  placeTemplates: string[]
  things: string[]
  thingTemplates: string[]
}

const written: Record<string, Written> = {
  en: {
    phrases: ['hi', 'hello', 'hello world', 'ok', 'thanks!', 'thank you so much', 'lol', 'good morning', 'good night everyone', 'first comment', 'second comment', 'first!', 'new post', 'great post', 'nice post', 'new comment', 'reply', 'replying here', 'see reply above', 'holiday pics', 'holiday pics from the lake', 'my new avatar', 'new avatar', 'see you at the match tonight', 'see you tomorrow', 'nice photo', 'love this', 'so cute', 'congrats!', 'happy birthday, have a great one!', 'the meeting is moved to 3pm', 'can you send me the report?', 'this recipe needs more salt', 'what time does the shop open?', 'great game last night', 'my cat sleeps all day', 'I disagree with your argument about taxes', 'link in bio', 'throwback to last summer', 'weekend vibes', 'coffee first', 'Monday again', 'who else is watching tonight?', 'following', 'same here', 'agreed', 'well said', 'subscribed', 'where is this?', 'beautiful view'],
    places: ['the lake', 'Lisbon', 'the mountains', 'Rome', 'the beach', 'Tokyo', 'the old town', 'Scotland', 'the coast', 'Barcelona'],
    placeTemplates: ['holiday pics from {x}', 'back from {x}', 'anyone been to {x}?', 'sunset over {x}', 'our trip to {x}', 'day two in {x}', 'missing {x} already', 'best food in {x}?'],
    things: ['the new phone', 'these headphones', 'my new bike', 'this blender', 'the blue jacket', 'this coffee maker', 'the hiking boots', 'this lamp', 'the kindle', 'these running shoes'],
    thingTemplates: ['just bought {x}', 'review of {x}', 'does anyone recommend {x}?', 'unboxing {x}', 'is {x} worth it?', 'loving {x}', 'where did you get {x}?', 'returned {x} today'],
  },
  de: {
    phrases: ['Hallo', 'Hallo zusammen', 'Guten Morgen', 'Gute Nacht', 'Danke schön', 'Vielen Dank!', 'Bis morgen', 'Wie geht es dir?', 'Erster Kommentar', 'Zweiter Kommentar', 'Erster!', 'Neuer Beitrag', 'Toller Beitrag', 'Schöner Beitrag', 'Neuer Kommentar', 'Antwort', 'Siehe Antwort oben', 'Urlaubsbilder', 'Urlaubsbilder vom See', 'Mein neues Profilbild', 'Neues Profilbild', 'Bis heute Abend beim Spiel', 'Schönes Foto', 'Das gefällt mir', 'So süß', 'Glückwunsch!', 'Herzlichen Glückwunsch zum Geburtstag', 'Das Wetter ist heute schön', 'Der Zug hat Verspätung', 'Ich koche heute Abend Nudeln', 'Schönes Wochenende!', 'Wo ist der Bahnhof?', 'Das Meeting ist auf 15 Uhr verschoben', 'Kannst du mir den Bericht schicken?', 'Wann macht der Laden auf?', 'Tolles Spiel gestern', 'Meine Katze schläft den ganzen Tag', 'Link in der Bio', 'Erinnerung an letzten Sommer', 'Erst mal Kaffee', 'Schon wieder Montag', 'Wer schaut heute Abend?', 'Geht mir genauso', 'Stimmt', 'Gut gesagt', 'Abonniert', 'Wo ist das?', 'Schöne Aussicht', 'Ich sehe das anders mit den Steuern', 'Das Rezept braucht mehr Salz'],
    places: ['Berlin', 'Hamburg', 'Wien', 'München', 'Rom', 'Lissabon', 'Zürich', 'Dresden', 'Kopenhagen', 'Prag'],
    placeTemplates: ['Urlaubsbilder aus {x}', 'Zurück aus {x}', 'War jemand schon in {x}?', 'Sonnenuntergang in {x}', 'Unsere Reise nach {x}', 'Tag zwei in {x}', 'Ich vermisse {x} schon', 'Wo isst man gut in {x}?'],
    things: ['das neue Handy', 'diese Kopfhörer', 'mein neues Fahrrad', 'diesen Mixer', 'die blaue Jacke', 'diese Kaffeemaschine', 'die Wanderschuhe', 'diese Lampe', 'den E-Reader', 'diese Laufschuhe'],
    thingTemplates: ['Habe gerade {x} gekauft', 'Erfahrungen mit {x}?', 'Kann jemand {x} empfehlen?', 'Auspacken: {x}', 'Lohnt sich {x}?', 'Ich liebe {x}', 'Wo hast du {x} her?', 'Habe {x} heute zurückgegeben'],
  },
  fr: {
    phrases: ['Salut', 'Bonjour à tous', 'Bonsoir', 'Bonne nuit', 'merci beaucoup', 'Merci !', 'à demain', 'Comment ça va ?', 'Premier commentaire', 'Deuxième commentaire', 'Premier !', 'Nouveau post', 'Super post', 'Joli post', 'Nouveau commentaire', 'Réponse', 'Voir la réponse plus haut', 'Photos de vacances', 'Photos de vacances au lac', 'Ma nouvelle photo de profil', 'Nouvel avatar', 'On se voit au match ce soir', 'Belle photo', "J'adore", 'Trop mignon', 'Félicitations !', 'Bon anniversaire !', "Il fait beau aujourd’hui", 'Le train est en retard', 'Je prépare le dîner', 'Où est la gare ?', 'Bonne soirée', 'Bon week-end', 'La réunion est décalée à 15h', 'Tu peux m’envoyer le rapport ?', 'À quelle heure ouvre la boutique ?', 'Super match hier soir', 'Mon chat dort toute la journée', 'Lien dans la bio', "Souvenir de l'été dernier", "D'abord un café", 'Encore lundi', 'Qui regarde ce soir ?', 'Pareil pour moi', "D'accord", 'Bien dit', 'Abonné', "C'est où ?", 'Quelle vue', 'Cette recette manque de sel'],
    places: ['Lyon', 'Nice', 'Marseille', 'Bordeaux', 'Rome', 'Lisbonne', 'Genève', 'Montréal', 'Bruxelles', 'Annecy'],
    placeTemplates: ['Photos de vacances à {x}', 'De retour de {x}', "Quelqu'un connaît {x} ?", 'Coucher de soleil à {x}', 'Notre voyage à {x}', 'Deuxième jour à {x}', '{x} me manque déjà', 'Où bien manger à {x} ?'],
    things: ['le nouveau téléphone', 'ce casque audio', 'mon nouveau vélo', 'ce mixeur', 'la veste bleue', 'cette cafetière', 'les chaussures de randonnée', 'cette lampe', 'la liseuse', 'ces chaussures de course'],
    thingTemplates: ["Je viens d'acheter {x}", 'Avis sur {x} ?', "Quelqu'un recommande {x} ?", 'Déballage : {x}', 'Ça vaut le coup, {x} ?', "J'adore {x}", "Où as-tu trouvé {x} ?", "J'ai rendu {x} aujourd'hui"],
  },
  es: {
    phrases: ['Hola', 'Hola a todos', 'Buenos días', 'Buenas noches', 'Muchas gracias', '¡Gracias!', 'Hasta mañana', '¿Qué tal?', 'Primer comentario', 'Segundo comentario', '¡Primero!', 'Nueva publicación', 'Gran publicación', 'Buen post', 'Nuevo comentario', 'Respuesta', 'Mira la respuesta de arriba', 'Fotos de vacaciones', 'Fotos de vacaciones en el lago', 'Mi nueva foto de perfil', 'Nuevo avatar', 'Nos vemos en el partido esta noche', 'Qué foto tan bonita', 'Me encanta', 'Qué mono', '¡Felicidades!', '¡Feliz cumpleaños!', 'Hoy hace buen tiempo', 'El tren llega tarde', 'Estoy haciendo la cena', '¿Dónde está la estación?', 'Buen fin de semana', 'La reunión pasa a las 15h', '¿Me mandas el informe?', '¿A qué hora abre la tienda?', 'Gran partido anoche', 'Mi gato duerme todo el día', 'Enlace en la bio', 'Recuerdo del verano pasado', 'Primero un café', 'Otra vez lunes', '¿Quién lo ve esta noche?', 'Igual yo', 'De acuerdo', 'Bien dicho', 'Suscrito', '¿Dónde es esto?', 'Qué vistas', 'No estoy de acuerdo con lo de los impuestos', 'A esta receta le falta sal'],
    places: ['Sevilla', 'Valencia', 'Madrid', 'Bilbao', 'Roma', 'Lisboa', 'Granada', 'Cancún', 'Buenos Aires', 'Mallorca'],
    placeTemplates: ['Fotos de vacaciones en {x}', 'De vuelta de {x}', '¿Alguien ha estado en {x}?', 'Atardecer en {x}', 'Nuestro viaje a {x}', 'Segundo día en {x}', 'Ya echo de menos {x}', '¿Dónde comer bien en {x}?'],
    things: ['el móvil nuevo', 'estos auriculares', 'mi bici nueva', 'esta batidora', 'la chaqueta azul', 'esta cafetera', 'las botas de montaña', 'esta lámpara', 'el lector electrónico', 'estas zapatillas de correr'],
    thingTemplates: ['Acabo de comprar {x}', '¿Opiniones sobre {x}?', '¿Alguien recomienda {x}?', 'Unboxing: {x}', '¿Merece la pena {x}?', 'Me encanta {x}', '¿Dónde compraste {x}?', 'Hoy devolví {x}'],
  },
  pt: {
    phrases: ['Olá', 'Oi, pessoal', 'Bom dia', 'Boa noite', 'Muito obrigado', 'Obrigada!', 'Até amanhã', 'Tudo bem?', 'Primeiro comentário', 'Segundo comentário', 'Primeiro!', 'Novo post', 'Ótimo post', 'Post lindo', 'Novo comentário', 'Resposta', 'Veja a resposta acima', 'Fotos das férias', 'Fotos das férias no lago', 'Minha nova foto de perfil', 'Novo avatar', 'Nos vemos no jogo hoje à noite', 'Que foto linda', 'Adorei', 'Que fofo', 'Parabéns!', 'Feliz aniversário!', 'O tempo está bom hoje', 'O trem está atrasado', 'Estou fazendo o jantar', 'Onde fica a estação?', 'Bom fim de semana', 'A reunião passou para as 15h', 'Pode me mandar o relatório?', 'Que horas a loja abre?', 'Que jogo ontem à noite', 'Meu gato dorme o dia todo', 'Link na bio', 'Lembrança do verão passado', 'Primeiro um café', 'Segunda-feira de novo', 'Quem vai assistir hoje?', 'Eu também', 'Concordo', 'Bem dito', 'Inscrito', 'Onde é isso?', 'Que vista', 'Discordo do seu argumento sobre impostos', 'Essa receita precisa de mais sal'],
    places: ['Lisboa', 'Porto', 'Rio', 'Salvador', 'Roma', 'Florianópolis', 'Madeira', 'Recife', 'Sintra', 'Coimbra'],
    placeTemplates: ['Fotos das férias em {x}', 'De volta de {x}', 'Alguém já foi a {x}?', 'Pôr do sol em {x}', 'Nossa viagem a {x}', 'Segundo dia em {x}', 'Já com saudades de {x}', 'Onde comer bem em {x}?'],
    things: ['o celular novo', 'estes fones de ouvido', 'minha bicicleta nova', 'este liquidificador', 'a jaqueta azul', 'esta cafeteira', 'as botas de trilha', 'este abajur', 'o leitor digital', 'estes tênis de corrida'],
    thingTemplates: ['Acabei de comprar {x}', 'Opiniões sobre {x}?', 'Alguém recomenda {x}?', 'Abrindo a caixa: {x}', 'Vale a pena {x}?', 'Amando {x}', 'Onde você comprou {x}?', 'Devolvi {x} hoje'],
  },
  it: {
    phrases: ['Ciao', 'Ciao a tutti', 'Buongiorno', 'Buonanotte', 'Grazie mille', 'Grazie!', 'A domani', 'Come stai?', 'Primo commento', 'Secondo commento', 'Primo!', 'Nuovo post', 'Bel post', 'Ottimo post', 'Nuovo commento', 'Risposta', 'Vedi la risposta sopra', 'Foto delle vacanze', 'Foto delle vacanze al lago', 'La mia nuova foto profilo', 'Nuovo avatar', 'Ci vediamo alla partita stasera', 'Bella foto', 'Lo adoro', 'Che carino', 'Congratulazioni!', 'Buon compleanno!', 'Oggi fa bel tempo', 'Il treno è in ritardo', 'Sto preparando la cena', "Dov'è la stazione?", 'Buon fine settimana', 'La riunione è spostata alle 15', 'Mi mandi il rapporto?', 'A che ora apre il negozio?', 'Bella partita ieri sera', 'Il mio gatto dorme tutto il giorno', 'Link in bio', "Ricordo dell'estate scorsa", 'Prima il caffè', 'Di nuovo lunedì', 'Chi guarda stasera?', 'Anche io', "D'accordo", 'Ben detto', 'Iscritto', "Dov'è questo posto?", 'Che vista', 'Non sono d’accordo sulle tasse', 'Questa ricetta ha bisogno di più sale'],
    places: ['Roma', 'Napoli', 'Firenze', 'Venezia', 'Torino', 'Lisbona', 'Palermo', 'Bologna', 'Parigi', 'Como'],
    placeTemplates: ['Foto delle vacanze a {x}', 'Di ritorno da {x}', 'Qualcuno è stato a {x}?', 'Tramonto a {x}', 'Il nostro viaggio a {x}', 'Secondo giorno a {x}', 'Mi manca già {x}', 'Dove si mangia bene a {x}?'],
    things: ['il nuovo telefono', 'queste cuffie', 'la mia bici nuova', 'questo frullatore', 'la giacca blu', 'questa macchina del caffè', 'gli scarponi da trekking', 'questa lampada', "l'e-reader", 'queste scarpe da corsa'],
    thingTemplates: ['Ho appena comprato {x}', 'Recensioni su {x}?', 'Qualcuno consiglia {x}?', 'Unboxing: {x}', 'Vale la pena {x}?', 'Adoro {x}', 'Dove hai preso {x}?', 'Oggi ho restituito {x}'],
  },
  ar: {
    phrases: ['مرحبا', 'أهلا بالجميع', 'صباح الخير', 'مساء الخير', 'تصبحون على خير', 'شكرا لك', 'شكرا جزيلا', 'أراك غدا', 'كيف حالك؟', 'أول تعليق', 'ثاني تعليق', 'منشور جديد', 'منشور رائع', 'منشور جميل', 'تعليق جديد', 'رد', 'انظر الرد في الأعلى', 'صور العطلة', 'صور العطلة من البحيرة', 'صورتي الشخصية الجديدة', 'صورة جديدة', 'أراكم في المباراة الليلة', 'صورة جميلة', 'أحببت هذا', 'لطيف جدا', 'مبروك', 'عيد ميلاد سعيد', 'الطقس جميل اليوم', 'القطار متأخر', 'أحضّر العشاء الآن', 'أين المحطة؟', 'عطلة نهاية أسبوع سعيدة', 'تم تأجيل الاجتماع إلى الساعة الثالثة', 'هل يمكنك إرسال التقرير؟', 'متى يفتح المحل؟', 'مباراة رائعة البارحة', 'قطتي تنام طوال اليوم', 'الرابط في الوصف', 'ذكريات الصيف الماضي', 'القهوة أولا', 'عاد يوم الاثنين', 'من سيشاهد الليلة؟', 'وأنا كذلك', 'موافق', 'كلام جميل', 'تم الاشتراك', 'أين هذا المكان؟', 'منظر رائع', 'أحب القراءة في المساء', 'مبروك على النجاح'],
    places: ['دبي', 'عمّان', 'بيروت', 'القاهرة', 'مراكش', 'إسطنبول', 'تونس', 'الإسكندرية', 'مسقط', 'الدوحة'],
    placeTemplates: ['صور العطلة في {x}', 'عدنا من {x}', 'هل زار أحد {x}؟', 'غروب الشمس في {x}', 'رحلتنا إلى {x}', 'اليوم الثاني في {x}', 'اشتقت إلى {x}', 'أين أفضل مطعم في {x}؟'],
    things: ['الهاتف الجديد', 'هذه السماعات', 'دراجتي الجديدة', 'هذا الخلاط', 'السترة الزرقاء', 'آلة القهوة هذه', 'حذاء المشي', 'هذا المصباح', 'القارئ الإلكتروني', 'حذاء الجري هذا'],
    thingTemplates: ['اشتريت {x} اليوم', 'ما رأيكم في {x}؟', 'هل ينصح أحد ب{x}؟', 'فتح علبة {x}', 'هل يستحق {x} السعر؟', 'أحب {x}', 'من أين اشتريت {x}؟', 'أرجعت {x} اليوم'],
  },
  ko: {
    phrases: ['안녕하세요', '안녕', '좋은 아침이에요', '잘 자요', '감사합니다', '고마워요!', '내일 봐요', '잘 지내요?', '첫 댓글', '두 번째 댓글', '1등!', '새 글', '좋은 글이네요', '멋진 글', '새 댓글', '답글', '위에 답글 봐주세요', '휴가 사진', '호수에서 찍은 휴가 사진', '새 프로필 사진', '새 아바타', '오늘 밤 경기에서 봐요', '사진 예쁘다', '너무 좋아요', '귀여워요', '축하해요!', '생일 축하해요', '오늘 날씨가 좋네요', '기차가 늦었어요', '저녁 준비 중이에요', '역이 어디예요?', '주말 잘 보내세요', '회의가 3시로 바뀌었어요', '보고서 보내줄 수 있어요?', '가게는 몇 시에 열어요?', '어젯밤 경기 최고였어요', '우리 고양이는 하루 종일 자요', '링크는 프로필에', '작년 여름 추억', '커피부터', '또 월요일이네', '오늘 밤 누가 봐요?', '저도요', '동의해요', '맞는 말이에요', '구독했어요', '여기 어디예요?', '경치 좋네요', '점심 뭐 먹을까요?', '책 읽는 것을 좋아해요'],
    places: ['부산', '제주도', '강릉', '경주', '도쿄', '오사카', '파리', '속초', '전주', '여수'],
    placeTemplates: ['{x} 여행 사진', '{x}에서 돌아왔어요', '{x}에 가 본 사람 있어요?', '{x}의 노을', '우리의 {x} 여행', '{x} 여행 둘째 날', '벌써 {x}가 그리워요', '{x} 맛집 추천해 주세요'],
    things: ['새 휴대폰', '이 헤드폰', '새 자전거', '이 믹서기', '파란 재킷', '이 커피머신', '등산화', '이 조명', '전자책 리더기', '이 러닝화'],
    thingTemplates: ['오늘 {x} 샀어요', '{x} 후기 있어요?', '{x} 추천하시나요?', '{x} 언박싱', '{x} 살 만한가요?', '{x} 정말 마음에 들어요', '{x} 어디서 샀어요?', '오늘 {x} 반품했어요'],
  },
  zh: {
    phrases: ['你好', '大家好', '早上好', '晚安', '谢谢你', '非常感谢！', '明天见', '最近怎么样？', '第一条评论', '第二条评论', '沙发！', '新帖子', '好帖', '写得真好', '新评论', '回复', '看上面的回复', '假期照片', '湖边的假期照片', '我的新头像', '新头像', '今晚比赛见', '照片真好看', '太喜欢了', '好可爱', '恭喜！', '生日快乐', '今天天气很好', '火车晚点了', '我在做晚饭', '车站在哪里？', '周末愉快', '会议改到下午三点', '能把报告发给我吗？', '商店几点开门？', '昨晚的比赛太精彩了', '我的猫整天都在睡觉', '链接在简介里', '去年夏天的回忆', '先喝咖啡', '又是星期一', '今晚谁看？', '我也是', '同意', '说得好', '已关注', '这是哪里？', '风景真美', '你吃饭了吗？', '我喜欢看书'],
    places: ['杭州', '成都', '西安', '厦门', '东京', '大理', '青岛', '桂林', '巴黎', '丽江'],
    placeTemplates: ['{x}的假期照片', '刚从{x}回来', '有人去过{x}吗？', '{x}的日落', '我们的{x}之旅', '在{x}的第二天', '已经开始想念{x}了', '{x}有什么好吃的？'],
    things: ['新手机', '这副耳机', '我的新自行车', '这台搅拌机', '那件蓝色外套', '这台咖啡机', '登山鞋', '这盏台灯', '电子书阅读器', '这双跑鞋'],
    thingTemplates: ['刚买了{x}', '{x}好用吗？', '有人推荐{x}吗？', '{x}开箱', '{x}值得买吗？', '很喜欢{x}', '你在哪里买的{x}？', '今天把{x}退了'],
  },
}

const fill = (templates: string[], words: string[]) => templates.flatMap((template) => words.map((word) => template.replace('{x}', word)))

export const everydayTexts: Record<string, string[]> = Object.fromEntries(
  Object.entries(written).map(([lang, w]) => [lang, [...new Set([...w.phrases, ...fill(w.placeTemplates, w.places), ...fill(w.thingTemplates, w.things)])]]),
)

const half = (parity: 0 | 1) => Object.fromEntries(Object.entries(everydayTexts).map(([lang, texts]) => [lang, texts.filter((_, i) => i % 2 === parity)]))
export const everydayCalibration: Record<string, string[]> = half(0)
export const everydayReport: Record<string, string[]> = half(1)
