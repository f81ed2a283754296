/**
 * Rows of a CSV or TSV file as upstream dataset repositories write them. With `quotes`, a field
 * that starts with `"` runs to the next lone `"` (`""` is a literal quote) and may span lines, as
 * in RFC 4180; without, every line is a row and quotes are text (OLID's TSV quotes inconsistently).
 *
 * @example parseDelimited('text,label\n"a, b",1\n', { delimiter: ',', quotes: true })
 * // [['text', 'label'], ['a, b', '1']]
 */
export interface DelimitedOptions {
  delimiter: ',' | '\t'
  quotes: boolean
}

export function parseDelimited(content: string, { delimiter, quotes }: DelimitedOptions): string[][] {
  const text = content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
  if (!quotes) return text.split('\n').filter((line) => line.trim()).map((line) => line.split(delimiter))
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let i = 0
  while (i < text.length) {
    const char = text[i]!
    if (char === '"' && field === '') {
      const end = closingQuote(text, i + 1)
      field = text.slice(i + 1, end).replace(/""/g, '"')
      i = end + 1
      continue
    }
    if (char === delimiter) {
      row.push(field)
      field = ''
    } else if (char === '\n') {
      row.push(field)
      if (row.some((value) => value.trim())) rows.push(row)
      row = []
      field = ''
    } else {
      field += char
    }
    i++
  }
  row.push(field)
  if (row.some((value) => value.trim())) rows.push(row)
  return rows
}

/** Index of the quote that closes a field opened just before `from` (or the end of the text). */
function closingQuote(text: string, from: number): number {
  let i = from
  while (i < text.length) {
    if (text[i] === '"') {
      if (text[i + 1] === '"') i += 2
      else return i
    } else {
      i++
    }
  }
  return text.length
}
