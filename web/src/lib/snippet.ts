/**
 * A search result's snippet: plain text with each word found between «
 * and » (and … where the text was cut), cut into parts to highlight.
 */
export function snippetParts(snippet: string): { text: string; hit: boolean }[] {
  const out: { text: string; hit: boolean }[] = [];
  let i = 0;
  while (i < snippet.length) {
    const open = snippet.indexOf('«', i);
    const close = open < 0 ? -1 : snippet.indexOf('»', open + 1);
    if (open < 0 || close < 0) break;
    if (open > i) out.push({ text: snippet.slice(i, open), hit: false });
    if (close > open + 1) out.push({ text: snippet.slice(open + 1, close), hit: true });
    i = close + 1;
  }
  if (i < snippet.length) out.push({ text: snippet.slice(i), hit: false });
  return out;
}
