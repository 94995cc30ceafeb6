/**
 * Hard negatives for contrastive training: a scene one attribute away from a given one (another
 * colour, shape, detail, size, count, region, or the inverse relation). In a batch with its
 * original, the sibling's prompt and render differ from the original's in that attribute only.
 */
import type { Rng } from '../../../util/random.js';
import { tryLayout } from '../layout.js';
import {
  COLOURS,
  DETAILS,
  INVERSE_RELATION,
  MAX_GROUP_COUNT,
  MAX_OBJECTS,
  type ObjectGroup,
  objectCount,
  REGIONS,
  type Scene,
  SHAPES,
} from '../scene.js';

const other = <T>(rng: Rng, items: readonly T[], not: T): T => rng.pick(items.filter((x) => x !== not));

type Edit = (scene: Scene, g: number, rng: Rng) => Scene | null;

const withGroup = (scene: Scene, g: number, change: Partial<ObjectGroup>): Scene => ({
  groups: scene.groups.map((group, i) => (i === g ? { ...group, ...change } : group)),
  relations: scene.relations,
});

/** Groups must differ in shape or colour (as sampleScene keeps them), or a prompt is ambiguous. */
const distinctKinds = (scene: Scene) =>
  new Set(scene.groups.map((g) => `${g.shape} ${g.colour}`)).size === scene.groups.length;

const EDITS: Edit[] = [
  (s, g, rng) => withGroup(s, g, { colour: other(rng, COLOURS, s.groups[g].colour) }),
  (s, g, rng) => withGroup(s, g, { shape: other(rng, SHAPES, s.groups[g].shape) }),
  (s, g, rng) => withGroup(s, g, { detail: other(rng, DETAILS, s.groups[g].detail) }),
  (s, g) => {
    const size = s.groups[g].size;
    return size === null ? null : withGroup(s, g, { size: size === 'small' ? 'large' : 'small' });
  },
  (s, g, rng) => {
    const count = s.groups[g].count + (rng.uniform() < 0.5 ? -1 : 1);
    const total = objectCount(s) - s.groups[g].count + count;
    return count < 1 || count > MAX_GROUP_COUNT || total > MAX_OBJECTS ? null : withGroup(s, g, { count });
  },
  (s, g, rng) => {
    const region = s.groups[g].region;
    return region === null ? null : withGroup(s, g, { region: other(rng, REGIONS, region) });
  },
  (s, _g, rng) =>
    s.relations.length === 0
      ? null
      : {
          groups: s.groups,
          relations: s.relations.map((r) =>
            rng.uniform() < 0.5 ? r : { ...r, relation: INVERSE_RELATION[r.relation] },
          ),
        },
];

/** A feasible scene one edit away from `scene`, or null when the tries drawn all fail. */
export function siblingScene(scene: Scene, rng: Rng, tries = 8): Scene | null {
  for (let i = 0; i < tries; i++) {
    const edited = rng.pick(EDITS)(scene, rng.int(scene.groups.length), rng);
    if (edited && distinctKinds(edited) && JSON.stringify(edited) !== JSON.stringify(scene)) {
      if (tryLayout(edited, rng) !== null) return edited;
    }
  }
  return null;
}
