/**
 * Word-level tokenisation shared by the text encoder and the parser, and the closed vocabulary of
 * the world (every word any dialect can emit, in a stable order) for a word-level tokenizer.
 */
import {
  COUNT_WORDS,
  DETAIL_ADJECTIVES,
  DETAIL_PHRASES,
  FRAME_TAILS,
  PLACEMENT_VERBS,
  SHAPE_NOUNS,
  SIZE_WORDS,
  TERSE_CONNECTORS,
  TERSE_REGION_PHRASES,
  TERSE_RELATION_PHRASES,
  VERBOSE_CONNECTORS,
  VERBOSE_PREFIXES,
  VERBOSE_REGION_PHRASES,
  VERBOSE_RELATION_PHRASES,
  VERBOSE_SUFFIXES,
} from './lexicon.js';
import { COLOURS } from './scene.js';

/** Most words in a prompt: 64 tokens less BOS and EOS. */
export const MAX_PROMPT_WORDS = 62;

/** Lower case, punctuation stripped, split on anything that is not a letter or digit. */
export function normalizeWords(prompt: string): string[] {
  return prompt
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

function phrases(table: Readonly<Record<string | number, readonly string[]>>): string[] {
  return Object.values(table).flat();
}

export const WORLD_VOCABULARY: readonly string[] = Object.freeze([
  ...new Set(
    [
      phrases(COUNT_WORDS),
      phrases(SIZE_WORDS),
      [...COLOURS],
      Object.values(SHAPE_NOUNS).flatMap((n) => [n.one, n.many]),
      phrases(DETAIL_ADJECTIVES),
      phrases(DETAIL_PHRASES),
      phrases(TERSE_REGION_PHRASES),
      phrases(VERBOSE_REGION_PHRASES),
      phrases(TERSE_RELATION_PHRASES),
      phrases(VERBOSE_RELATION_PHRASES),
      PLACEMENT_VERBS,
      FRAME_TAILS,
      TERSE_CONNECTORS,
      VERBOSE_CONNECTORS,
      VERBOSE_PREFIXES,
      VERBOSE_SUFFIXES,
    ].flatMap((list) => list.flatMap(normalizeWords)),
  ),
]);
