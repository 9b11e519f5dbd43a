import { expect } from 'vitest';

const TAG = /<(\/?)([A-Za-z][\w:-]*)[^<>]*?(\/?)>/g;

/** Expects `svg` to be one balanced <svg> element: tags nest and close, no stray '<' (CDATA style blocks skipped). */
export function expectWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const body = svg.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const stack: string[] = [];
  for (const m of body.matchAll(TAG)) {
    const [, close, name, selfClose] = m as unknown as [string, string, string, string];
    if (selfClose) continue;
    if (close) expect(stack.pop()).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(body.replace(TAG, '')).not.toContain('<');
}

/** The `<text>` contents of an SVG: legend entries, titles, axis and marker labels. */
export const svgTexts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] as string);
