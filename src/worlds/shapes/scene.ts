/**
 * The semantic scene model of the shapes world: what a prompt says, independent of wording and of
 * where exactly things land in an image. A scene is a list of object groups ("two small red
 * circles") and spatial relations between whole groups ("... above a blue square").
 */

export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'star', 'cross'] as const;
export type Shape = (typeof SHAPES)[number];

export const COLOURS = ['red', 'green', 'blue', 'yellow', 'magenta', 'cyan', 'white'] as const;
export type Colour = (typeof COLOURS)[number];

export const SIZES = ['small', 'large'] as const;
export type Size = (typeof SIZES)[number];

/** Fine-detail fill; everything but `plain` only survives in a sharp image. */
export const DETAILS = ['plain', 'striped', 'dotted', 'hollow'] as const;
export type Detail = (typeof DETAILS)[number];

export const REGIONS = [
  'top left',
  'top',
  'top right',
  'left',
  'center',
  'right',
  'bottom left',
  'bottom',
  'bottom right',
] as const;
export type Region = (typeof REGIONS)[number];

/** `subject RELATION object`, e.g. subject `above` object. */
export const RELATIONS = ['left of', 'right of', 'above', 'below'] as const;
export type Relation = (typeof RELATIONS)[number];

export const MAX_OBJECTS = 6;
export const MAX_GROUP_COUNT = 4;

export interface ObjectGroup {
  count: number;
  shape: Shape;
  colour: Colour;
  /** null: the prompt does not say; any size is right. */
  size: Size | null;
  detail: Detail;
  /** null: no absolute position asked for. */
  region: Region | null;
}

/** Every member of group `subject` stands in `relation` to every member of group `object`. */
export interface GroupRelation {
  subject: number;
  relation: Relation;
  object: number;
}

export interface Scene {
  groups: ObjectGroup[];
  relations: GroupRelation[];
}

/** One object of a scene with counts expanded; `group` indexes `scene.groups`. */
export interface SceneObject {
  group: number;
  shape: Shape;
  colour: Colour;
  size: Size | null;
  detail: Detail;
  region: Region | null;
}

export const INVERSE_RELATION: Readonly<Record<Relation, Relation>> = {
  'left of': 'right of',
  'right of': 'left of',
  above: 'below',
  below: 'above',
};

/** The objects of a scene with counts expanded, in group order. */
export function sceneObjects(scene: Scene): SceneObject[] {
  const out: SceneObject[] = [];
  scene.groups.forEach((g, group) => {
    for (let i = 0; i < g.count; i++) {
      out.push({ group, shape: g.shape, colour: g.colour, size: g.size, detail: g.detail, region: g.region });
    }
  });
  return out;
}

/** Object-count buckets of prompt richness, as the targets of the embedded model name them. */
export const OBJECT_BUCKETS = [
  { name: '1', min: 1, max: 1 },
  { name: '2-3', min: 2, max: 3 },
  { name: '4-6', min: 4, max: 6 },
] as const;

export function objectCount(scene: Scene): number {
  return scene.groups.reduce((n, g) => n + g.count, 0);
}

function groupKey(g: ObjectGroup): string {
  return [g.shape, g.colour, g.size ?? '-', g.detail, g.region ?? '-', g.count].join('|');
}

/**
 * The wording-independent form of a scene: groups sorted, relations stated as `left of` / `above`
 * only and sorted. Two prompts mean the same scene exactly when their canonical forms are equal.
 */
export function canonicalScene(scene: Scene): Scene {
  const order = scene.groups.map((g, i) => ({ key: groupKey(g), i })).sort((a, b) => cmp(a.key, b.key));
  const newIndex = new Map(order.map((o, k) => [o.i, k]));
  const relations = scene.relations.map((r) => {
    const flip = r.relation === 'right of' || r.relation === 'below';
    const subject = newIndex.get(flip ? r.object : r.subject)!;
    const object = newIndex.get(flip ? r.subject : r.object)!;
    return { subject, relation: flip ? INVERSE_RELATION[r.relation] : r.relation, object };
  });
  relations.sort((a, b) => a.subject - b.subject || a.object - b.object || cmp(a.relation, b.relation));
  return { groups: order.map((o) => ({ ...scene.groups[o.i] })), relations };
}

export function sameScene(a: Scene, b: Scene): boolean {
  return JSON.stringify(canonicalScene(a)) === JSON.stringify(canonicalScene(b));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
