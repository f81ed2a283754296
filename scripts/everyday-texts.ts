/**
 * Everyday benign texts in the classifier's six languages, written for this service (not taken
 * from any data set): short greetings, thanks, chat and plain statements. A sanity probe for false
 * positives on ordinary text; never used for training.
 */
export const everydayTexts: Record<string, string[]> = {
  en: ['hi', 'ok', 'thanks!', 'lol', 'good morning', 'nice photo', 'see you tomorrow', 'the meeting is moved to 3pm', 'I disagree with your argument about taxes', 'my cat sleeps all day', 'Happy birthday, have a great one!', 'Can you send me the report?', 'This recipe needs more salt', 'What time does the shop open?', 'Great game last night'],
  de: ['Guten Morgen', 'Danke schön', 'Bis morgen', 'Wie geht es dir?', 'Das Wetter ist heute schön', 'Der Zug hat Verspätung', 'Ich koche heute Abend Nudeln', 'Schönes Wochenende!', 'Wo ist der Bahnhof?', 'Herzlichen Glückwunsch zum Geburtstag'],
  fr: ['Bonjour à tous', 'merci beaucoup', 'à demain', 'Comment ça va ?', 'Il fait beau aujourd’hui', 'Le train est en retard', 'Bon anniversaire !', 'Je prépare le dîner', 'Où est la gare ?', 'Bonne soirée'],
  ar: ['شكرا لك', 'صباح الخير', 'مساء الخير', 'كيف حالك؟', 'الطقس جميل اليوم', 'أراك غدا', 'عيد ميلاد سعيد', 'أين المحطة؟', 'أحب القراءة في المساء', 'مبروك على النجاح'],
  ko: ['안녕하세요', '감사합니다', '내일 봐요', '오늘 날씨가 좋네요', '생일 축하해요', '점심 뭐 먹을까요?', '기차가 늦었어요', '주말 잘 보내세요', '역이 어디예요?', '책 읽는 것을 좋아해요'],
  zh: ['谢谢你', '早上好', '明天见', '今天天气很好', '生日快乐', '你吃饭了吗？', '火车晚点了', '周末愉快', '车站在哪里？', '我喜欢看书'],
}
