/**
 * @mentions as the server reads them: '@' at the start or after a
 * character that is not part of a word, then a member's username (any
 * case), not followed by a word character; the longest username wins.
 */

export interface MentionMember {
  id: number;
  username: string;
}

const WORD = /[\p{L}\p{N}\p{M}_]/u;
const isWord = (ch: string | undefined) => ch !== undefined && WORD.test(ch);

/** The @-word being typed just before the caret: where its '@' is and what follows it. */
export function mentionQuery(text: string, caret: number): { at: number; query: string } | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  if (at > 0 && isWord(before.slice(0, at).slice(-1))) return null;
  const query = before.slice(at + 1);
  // Usernames may hold spaces, but not line breaks; a long run is prose, not a name.
  if (query.includes('\n') || [...query].length > 50) return null;
  return { at, query };
}

/** Members whose username starts with the query (then those that contain it), at most `max`. */
export function matchMembers(members: readonly MentionMember[], query: string, max = 8): MentionMember[] {
  const q = query.toLowerCase();
  const starts: MentionMember[] = [];
  const contains: MentionMember[] = [];
  for (const m of members) {
    const name = m.username.toLowerCase();
    if (name.startsWith(q)) starts.push(m);
    else if (q !== '' && !q.includes(' ') && name.includes(q)) contains.push(m);
  }
  const byName = (a: MentionMember, b: MentionMember) => a.username.localeCompare(b.username);
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, max);
}

/** The text with the '@query' at `at` replaced by '@username ', and where the caret goes. */
export function insertMention(text: string, at: number, caret: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  const after = text.slice(caret).replace(/^ /, '');
  return { text: text.slice(0, at) + inserted + after, caret: at + inserted.length };
}

export type Segment = { text: string } | { text: string; userId: number };

/**
 * The body cut into plain text and mentions of `mentioned` (the comment's
 * `mentions`, with usernames), so mentions can be shown highlighted.
 */
export function splitMentions(body: string, mentioned: readonly MentionMember[]): Segment[] {
  const candidates = mentioned
    .filter((m) => m.username !== '')
    .map((m) => ({ ...m, lower: m.username.toLowerCase() }))
    .sort((a, b) => b.username.length - a.username.length);
  if (candidates.length === 0 || !body.includes('@')) return [{ text: body }];
  const out: Segment[] = [];
  const lower = body.toLowerCase();
  let plain = 0;
  let i = 0;
  while (i < body.length) {
    const at = body.indexOf('@', i);
    if (at < 0) break;
    i = at + 1;
    if (at > 0 && isWord(body[at - 1])) continue;
    // Lower-casing keeps the length of the usernames we compare (ASCII and most scripts); a mismatch only misses a highlight.
    const hit = candidates.find((c) => lower.startsWith(c.lower, at + 1) && !isWord(body[at + 1 + c.lower.length]));
    if (!hit) continue;
    const end = at + 1 + hit.lower.length;
    if (at > plain) out.push({ text: body.slice(plain, at) });
    out.push({ text: body.slice(at, end), userId: hit.id });
    plain = end;
    i = end;
  }
  if (plain < body.length) out.push({ text: body.slice(plain) });
  return out;
}
