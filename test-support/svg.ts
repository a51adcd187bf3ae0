/** @file SVG checks shared by the test suites (plot, examples): counting elements and a well-formedness check. */

/** Number of elements `<tag …>` in an SVG text. */
export function countTags(svg: string, tag: string): number {
  return svg.match(new RegExp(`<${tag}[\\s/>]`, "g"))?.length ?? 0;
}

/**
 * Check that an SVG text is well-formed enough to render: every element closed in order, one root <svg>,
 * no raw `&` or `<` in text or attributes.
 * @returns null, or what is wrong.
 */
export function xmlProblem(svg: string): string | null {
  const stack: string[] = [];
  let roots = 0;
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:[^>"]|"[^"]*")*?)(\/?)>/g)) {
    const [, closing, name, attrs, selfClosing] = m;
    if (/"[^"]*[<&](?!amp;|lt;|gt;|quot;|#)/.test(attrs!))
      return `<${name}> has an unescaped < or & in an attribute`;
    if (stack.length === 0 && !closing) roots++;
    if (selfClosing) continue;
    if (closing) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open}>`;
    } else stack.push(name!);
  }
  if (stack.length > 0) return `unclosed <${stack.join("> <")}>`;
  const text = svg.replace(/<[^>]*>/g, "");
  if (/&(?!amp;|lt;|gt;|quot;|#\d+;)/.test(text)) return "an unescaped & in text";
  if (roots !== 1) return `${roots} root elements; expected one <svg>`;
  return svg.trimStart().startsWith("<svg") ? null : "the root is not <svg>";
}
