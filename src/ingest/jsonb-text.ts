/**
 * Postgres jsonb refuses two things JSON allows in strings: U+0000 and a lone UTF-16 surrogate (`\ud800`). A
 * signed Stripe event holding one (a customer's name, metadata) would be refused on every redelivery and lost, so
 * intake stores it with U+FFFD in their place. Every other body is stored as received.
 */

// Only a body with one of these escapes can hold either; most never do, and skip the parse.
const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what is replaced
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export type StorableJson = { text: string; replaced: number };

export function jsonbStorableText(text: string): StorableJson {
  if (!SUSPECT_ESCAPE.test(text)) return { text, replaced: 0 };
  let replaced = 0;
  const clean = (value: string) =>
    value.replace(UNSTORABLE, () => {
      replaced += 1;
      return "\uFFFD";
    });
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return clean(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [clean(key), walk(item)]));
    return value;
  };
  const cleaned = walk(JSON.parse(text));
  // An escaped backslash before "u0000" is plain text: nothing was replaced, the body stays as received.
  return replaced === 0 ? { text, replaced } : { text: JSON.stringify(cleaned), replaced };
}
