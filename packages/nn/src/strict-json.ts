/**
 * @file A strict JSON parser for safetensors headers: duplicate keys are an error (JSON.parse keeps the last
 * one silently), numbers keep their source text so that integers are checked exactly, and no key
 * (`"__proto__"`) is special.
 */

/** A JSON number, kept as its source text so that integers are checked exactly. */
export class JsonNumber {
  constructor(readonly text: string) {}
}
/** Objects are Maps: duplicate keys are refused and no key (`"__proto__"`) is special. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | Map<string, JsonValue>;

/** A header value as messages describe it: `an object`, `the number 2.0`, `the string "F16"`, `nothing`. */
export function jsonKind(v: JsonValue | undefined): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (v instanceof Map) return "an object";
  if (Array.isArray(v)) return "an array";
  if (v instanceof JsonNumber) return `the number ${v.text}`;
  return typeof v === "string" ? `the string ${JSON.stringify(v)}` : `${v}`;
}

// JSON.parse keeps the last of duplicate keys silently; safetensors forbids duplicates, so we parse
// ourselves. Headers are small (a few KB for a model), the data is never parsed as JSON.
const MAX_JSON_DEPTH = 64;
const JSON_NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * Parse `text` as one JSON value (RFC 8259, nesting at most 64 levels).
 * @throws SyntaxError naming the problem and the character position (the caller adds the file and function).
 */
export function parseJson(text: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at character ${i}`);
  };
  const skipSpace = (): void => {
    for (
      let c = text.charCodeAt(i);
      c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
      c = text.charCodeAt(++i)
    );
  };
  const expect = (ch: string): void => {
    if (text[i] !== ch) fail(`expected ${JSON.stringify(ch)}, found ${found()}`);
    i++;
  };
  const found = (): string => (i < text.length ? JSON.stringify(text[i]) : "end of input");
  const hex4 = (): number => {
    HEX4.lastIndex = i;
    if (!HEX4.test(text)) fail("expected 4 hex digits after \\u");
    i += 4;
    return Number.parseInt(text.slice(i - 4, i), 16);
  };
  const string = (): string => {
    i++; // the opening quote
    let out = "";
    let from = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) fail("unterminated string");
      if (c === 0x22) break;
      if (c < 0x20) fail("raw control character in a string");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(from, i);
      const e = text[++i] ?? "";
      i++;
      if (e === "u") {
        const unit = hex4();
        if (unit >= 0xdc00 && unit <= 0xdfff) fail("lone low surrogate escape");
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (text.slice(i, i + 2) !== "\\u") fail("lone high surrogate escape");
          i += 2;
          const low = hex4();
          if (low < 0xdc00 || low > 0xdfff) fail("lone high surrogate escape");
          out += String.fromCharCode(unit, low);
        } else {
          out += String.fromCharCode(unit);
        }
      } else {
        const ch = SIMPLE_ESCAPES[e];
        if (ch === undefined) fail(`invalid escape \\${e}`);
        out += ch;
      }
      from = i;
    }
    out += text.slice(from, i);
    i++; // the closing quote
    return out;
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_JSON_DEPTH) fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    skipSpace();
    const c = text[i];
    if (c === "{") {
      i++;
      const map = new Map<string, JsonValue>();
      skipSpace();
      if (text[i] === "}") {
        i++;
        return map;
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail(`expected a string key, found ${found()}`);
        const key = string();
        if (map.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
        skipSpace();
        expect(":");
        map.set(key, value(depth + 1));
        skipSpace();
        if (text[i] === "}") {
          i++;
          return map;
        }
        expect(",");
      }
    }
    if (c === "[") {
      i++;
      const items: JsonValue[] = [];
      skipSpace();
      if (text[i] === "]") {
        i++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        skipSpace();
        if (text[i] === "]") {
          i++;
          return items;
        }
        expect(",");
      }
    }
    if (c === '"') return string();
    JSON_NUMBER.lastIndex = i;
    const num = JSON_NUMBER.exec(text);
    if (num !== null) {
      i += num[0].length;
      return new JsonNumber(num[0]);
    }
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(`unexpected ${found()}`);
  };
  const result = value(0);
  skipSpace();
  if (i !== text.length) fail(`unexpected ${found()} after the JSON value`);
  return result;
}
