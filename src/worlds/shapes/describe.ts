/**
 * Scene to prompt in one of two dialects with the same meaning: `terse` ("two small red circles
 * above a striped blue square") and `verbose` (style filler around a wordier body). Clause order,
 * relation direction, attribute order and synonyms vary with the rng so prompts are not one
 * template.
 */
import type { Rng } from '../../util/random.js';
import {
  COUNT_WORDS,
  DETAIL_ADJECTIVES,
  DETAIL_PHRASES,
  FRAME_TAILS,
  PLACEMENT_VERBS,
  SHAPE_NOUNS,
  SIZE_WORDS,
  TERSE_REGION_PHRASES,
  TERSE_RELATION_PHRASES,
  VERBOSE_CONNECTORS,
  VERBOSE_PREFIXES,
  VERBOSE_REGION_PHRASES,
  VERBOSE_RELATION_PHRASES,
  VERBOSE_SUFFIXES,
} from './lexicon.js';
import { INVERSE_RELATION, type ObjectGroup, type Scene } from './scene.js';
import { MAX_PROMPT_WORDS, normalizeWords } from './vocabulary.js';

export const DIALECTS = ['terse', 'verbose'] as const;
export type Dialect = (typeof DIALECTS)[number];

interface Style {
  verbose: boolean;
  /** Shortest phrasings only (to fit the word budget). */
  compact: boolean;
}

function choose(rng: Rng, list: readonly string[], style: Style): string {
  const w = rng.pick(list);
  return style.compact ? list[0] : w;
}

function article(next: string): string {
  return /^[aeiou]/.test(next) ? 'an' : 'a';
}

function groupPhrase(g: ObjectGroup, rng: Rng, style: Style): string {
  const adjectives: string[] = [];
  if (g.size) adjectives.push(choose(rng, SIZE_WORDS[g.size], style));
  let detailAfter = '';
  let detailAdjective = false;
  const sayPlain = rng.uniform() < 0.12;
  if (g.detail !== 'plain' || sayPlain) {
    const asPhrase = style.verbose && !style.compact && rng.uniform() < 0.6;
    if (asPhrase) detailAfter = ` ${rng.pick(DETAIL_PHRASES[g.detail])}`;
    else adjectives.push(choose(rng, DETAIL_ADJECTIVES[g.detail], style));
    detailAdjective = !asPhrase;
  }
  // Colour usually right before the noun, sometimes before the detail adjective.
  const beforeDetail = detailAdjective && !style.compact && rng.uniform() < 0.25;
  adjectives.splice(beforeDetail ? adjectives.length - 1 : adjectives.length, 0, g.colour);
  const noun = g.count === 1 ? SHAPE_NOUNS[g.shape].one : SHAPE_NOUNS[g.shape].many;
  const count =
    g.count === 1
      ? !style.compact && rng.uniform() < 0.1
        ? 'one'
        : article(adjectives[0])
      : COUNT_WORDS[g.count][0];
  let text = `${count} ${adjectives.join(' ')} ${noun}${detailAfter}`;
  if (g.region) {
    const table = style.verbose && !style.compact ? VERBOSE_REGION_PHRASES : TERSE_REGION_PHRASES;
    text += ` ${placementVerb(rng, style)}${choose(rng, table[g.region], style)}`;
    if (style.verbose && !style.compact && rng.uniform() < 0.25) text += ` ${rng.pick(FRAME_TAILS)}`;
  }
  return text;
}

function placementVerb(rng: Rng, style: Style): string {
  return style.verbose && !style.compact && rng.uniform() < 0.4 ? `${rng.pick(PLACEMENT_VERBS)} ` : '';
}

function clauses(scene: Scene, rng: Rng, style: Style): string[] {
  const inRelation = new Set(scene.relations.flatMap((r) => [r.subject, r.object]));
  const out: string[] = [];
  for (const r of scene.relations) {
    // Half the time say it the other way round: "B below A" for "A above B".
    const flip = rng.uniform() < 0.5;
    const [a, b] = flip ? [r.object, r.subject] : [r.subject, r.object];
    const relation = flip ? INVERSE_RELATION[r.relation] : r.relation;
    const table = style.verbose ? VERBOSE_RELATION_PHRASES : TERSE_RELATION_PHRASES;
    const rel = `${placementVerb(rng, style)}${choose(rng, table[relation], style)}`;
    out.push(
      `${groupPhrase(scene.groups[a], rng, style)} ${rel} ${groupPhrase(scene.groups[b], rng, style)}`,
    );
  }
  scene.groups.forEach((g, i) => {
    if (!inRelation.has(i)) out.push(groupPhrase(g, rng, style));
  });
  return rng.shuffle(out);
}

function join(parts: string[], rng: Rng, style: Style): string {
  if (parts.length === 1) return parts[0];
  const last = parts[parts.length - 1];
  const head = parts.slice(0, -1).join(', ');
  if (!style.verbose && rng.uniform() < 0.3) return `${head}, ${last}`;
  const connector = style.verbose ? choose(rng, VERBOSE_CONNECTORS, style) : 'and';
  return `${head} ${connector} ${last}`;
}

function terse(scene: Scene, rng: Rng): string {
  const style = { verbose: false, compact: false };
  return join(clauses(scene, rng, style), rng, style);
}

function verbose(scene: Scene, rng: Rng): string {
  const prefix = rng.pick(VERBOSE_PREFIXES);
  const suffix = rng.pick(VERBOSE_SUFFIXES);
  const full = { verbose: true, compact: false };
  const compact = { verbose: true, compact: true };
  const attempts: [Style, string, string][] = [
    [full, prefix, suffix],
    [compact, prefix, suffix],
    [compact, prefix, VERBOSE_SUFFIXES[0]],
    [compact, VERBOSE_PREFIXES[0], VERBOSE_SUFFIXES[0]],
    [compact, VERBOSE_PREFIXES[0], ''],
  ];
  let text = '';
  for (const [style, pre, post] of attempts) {
    const body = join(clauses(scene, rng, style), rng, style);
    text = post ? `${pre} ${body}, ${post}` : `${pre} ${body}`;
    if (normalizeWords(text).length <= MAX_PROMPT_WORDS) break;
  }
  return text;
}

/** A prompt for the scene; throws if even the shortest wording exceeds MAX_PROMPT_WORDS. */
export function describe(scene: Scene, dialect: Dialect, rng: Rng): string {
  const text = dialect === 'terse' ? terse(scene, rng) : verbose(scene, rng);
  const words = normalizeWords(text).length;
  if (words > MAX_PROMPT_WORDS) {
    throw new Error(`describe: ${dialect} prompt has ${words} words (max ${MAX_PROMPT_WORDS}): ${text}`);
  }
  return text;
}
