/**
 * Every phrase the two dialects use, by meaning. describe() picks from these tables, parsePrompt()
 * reads them back and WORLD_VOCABULARY lists their words, so the three cannot drift apart.
 * Phrases are lower-case words separated by single spaces; the first entry of each list is the
 * shortest, used when a verbose prompt must be compacted to fit the word budget.
 */
import type { Detail, Region, Relation, Shape, Size } from './scene.js';

export const COUNT_WORDS: Readonly<Record<number, readonly string[]>> = {
  1: ['a', 'an', 'one'],
  2: ['two'],
  3: ['three'],
  4: ['four'],
};

export const SIZE_WORDS: Readonly<Record<Size, readonly string[]>> = {
  small: ['small', 'little'],
  large: ['large', 'big'],
};

export const SHAPE_NOUNS: Readonly<Record<Shape, { one: string; many: string }>> = {
  circle: { one: 'circle', many: 'circles' },
  square: { one: 'square', many: 'squares' },
  triangle: { one: 'triangle', many: 'triangles' },
  diamond: { one: 'diamond', many: 'diamonds' },
  star: { one: 'star', many: 'stars' },
  cross: { one: 'cross', many: 'crosses' },
};

/** Detail as an adjective before the noun ("striped blue square"). */
export const DETAIL_ADJECTIVES: Readonly<Record<Detail, readonly string[]>> = {
  plain: ['solid'],
  striped: ['striped', 'stripy'],
  dotted: ['dotted', 'spotted'],
  hollow: ['hollow', 'outlined'],
};

/** Detail as a phrase after the noun, verbose only ("a blue square with stripes"). */
export const DETAIL_PHRASES: Readonly<Record<Detail, readonly string[]>> = {
  plain: ['in solid color'],
  striped: ['with stripes', 'with horizontal stripes'],
  dotted: ['with dots', 'covered in dots', 'with polka dots'],
  hollow: ['in outline', 'drawn as an outline', 'shown only as an outline'],
};

export const TERSE_REGION_PHRASES: Readonly<Record<Region, readonly string[]>> = {
  'top left': ['in the top left', 'at the top left', 'in the upper left'],
  top: ['at the top', 'near the top'],
  'top right': ['in the top right', 'at the top right', 'in the upper right'],
  left: ['on the left', 'at the left'],
  center: ['in the center', 'in the middle'],
  right: ['on the right', 'at the right'],
  'bottom left': ['in the bottom left', 'at the bottom left', 'in the lower left'],
  bottom: ['at the bottom', 'near the bottom'],
  'bottom right': ['in the bottom right', 'at the bottom right', 'in the lower right'],
};

export const VERBOSE_REGION_PHRASES: Readonly<Record<Region, readonly string[]>> = {
  'top left': ['in the top left corner', 'in the upper left corner'],
  top: ['at the top', 'along the top edge'],
  'top right': ['in the top right corner', 'in the upper right corner'],
  left: ['on the left side', 'on the left'],
  center: ['in the center', 'right in the middle'],
  right: ['on the right side', 'on the right'],
  'bottom left': ['in the bottom left corner', 'in the lower left corner'],
  bottom: ['at the bottom', 'along the bottom edge'],
  'bottom right': ['in the bottom right corner', 'in the lower right corner'],
};

export const TERSE_RELATION_PHRASES: Readonly<Record<Relation, readonly string[]>> = {
  'left of': ['left of', 'to the left of'],
  'right of': ['right of', 'to the right of'],
  above: ['above', 'over'],
  below: ['below', 'under', 'beneath'],
};

export const VERBOSE_RELATION_PHRASES: Readonly<Record<Relation, readonly string[]>> = {
  'left of': ['left of', 'to the left of', 'on the left side of'],
  'right of': ['right of', 'to the right of', 'on the right side of'],
  above: ['above', 'directly above', 'higher up than'],
  below: ['below', 'underneath', 'lower down than'],
};

/** Verbose words that may introduce a region or relation ("placed above ..."). */
export const PLACEMENT_VERBS: readonly string[] = ['placed', 'positioned', 'sitting', 'located'];

/** Verbose words that may follow a region ("in the top left corner of the image"). */
export const FRAME_TAILS: readonly string[] = ['of the image', 'of the frame', 'of the canvas'];

/** Words joining the last clause to the others. */
export const TERSE_CONNECTORS: readonly string[] = ['and'];
export const VERBOSE_CONNECTORS: readonly string[] = ['and', 'along with', 'as well as', 'together with'];

export const VERBOSE_PREFIXES: readonly string[] = [
  'an image of',
  'a clean minimal illustration showing',
  'a simple flat vector graphic of',
  'digital art of',
  'a minimalist poster with',
  'a crisp icon style drawing of',
];

export const VERBOSE_SUFFIXES: readonly string[] = [
  'high quality',
  'rendered on a plain dark background, high quality',
  'on a plain dark background',
  'flat colors, sharp edges, high quality',
  'simple shapes, clean lines, highly detailed',
  'minimal style, dark backdrop, crisp and sharp',
];
