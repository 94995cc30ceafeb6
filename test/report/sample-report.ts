import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { fig3Spec, fig5Spec, type StepsByRichnessRow, type TradeoffRow } from '../../src/report/plots.js';
import type { GalleryRow, ReportData } from '../../src/report/report.js';

export const STEPS = [10, 20, 30, 40, 50];

const fig3Rows: StepsByRichnessRow[] = [
  { measure: 'words', bin: '1-5', meanSteps: 17.5, sd: 4.1, prompts: 40 },
  { measure: 'words', bin: '6-10', meanSteps: 26.2, sd: 6.3, prompts: 52 },
  { measure: 'words', bin: '11+', meanSteps: 36.8, sd: 5.2, prompts: 31 },
  ...[1, 2, 3, 4].map(
    (n): StepsByRichnessRow => ({
      measure: 'objects',
      bin: String(n),
      meanSteps: 10 + 8 * n,
      sd: 3 + n,
      prompts: 30,
    }),
  ),
];

const fig5Rows: TradeoffRow[] = [
  ...[1, 2, 3, 4, 5].map(
    (k): TradeoffRow => ({
      sweep: 'k',
      series: 'AdaDiff',
      setting: k,
      meanSteps: 40 - 4 * k,
      quality: 0.45 - 0.02 * k,
    }),
  ),
  ...[20, 30, 40].map(
    (m): TradeoffRow => ({
      sweep: 'k',
      series: 'Random policy',
      setting: null,
      meanSteps: m,
      quality: 0.25 + m / 400,
    }),
  ),
  { sweep: 'k', series: 'Oracle', setting: null, meanSteps: 21, quality: 0.47 },
  ...[1, 2, 4].map(
    (l): TradeoffRow => ({
      sweep: 'lambda',
      series: 'AdaDiff',
      setting: l,
      meanSteps: 22 + 3 * l,
      quality: 0.38 + 0.01 * l,
    }),
  ),
  ...[20, 30, 40].map(
    (m): TradeoffRow => ({
      sweep: 'lambda',
      series: 'Random policy',
      setting: null,
      meanSteps: m,
      quality: 0.25 + m / 400,
    }),
  ),
];

const prompts: Omit<GalleryRow, 'images'>[] = [
  { prompt: 'a red circle', difficulty: 'easy', chosen: 10 },
  { prompt: 'two blue squares left of a green triangle', difficulty: 'medium', chosen: 30 },
  {
    prompt: 'a <small> yellow star above three purple circles & a red square',
    difficulty: 'hard',
    chosen: 50,
  },
];

/** Writes one small PNG per prompt and step count into `dir`: a square of a colour of its own. */
async function writeGalleryImages(dir: string): Promise<GalleryRow[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    prompts.map(async (p, i) => {
      const images: Record<number, string> = {};
      for (const [j, s] of STEPS.entries()) {
        images[s] = `p${i}-${s}.png`;
        const background = { r: 60 + 60 * i, g: 40 * j, b: 200 - 40 * j };
        await sharp({ create: { width: 16, height: 16, channels: 3, background } })
          .png()
          .toFile(join(dir, images[s]));
      }
      return { ...p, images };
    }),
  );
}

/** A report like `adadiff eval`'s, small: two tables, Figures 3 and 5 and a gallery of tiny PNGs written into `dir`. */
export async function sampleReport(dir: string): Promise<ReportData> {
  return {
    title: 'AdaDiff evaluation (sample)',
    intro: ['Sample numbers for the report tests.'],
    inDomainNote: 'the world judge also scored the policy during training.',
    tables: [
      {
        title: 'Table 1. AdaDiff against fixed steps and a random policy',
        columns: [
          { title: 'Method' },
          { title: 'Step', better: 'lower', digits: 2 },
          { title: 'Time', unit: 's', better: 'lower', digits: 2 },
          { title: 'Judge', better: 'higher', inDomain: true, digits: 3 },
          { title: 'CLIP', better: 'higher', digits: 3 },
        ],
        rows: [
          { section: 'Shapes, terse' },
          ['SD', 10, 0.58, 0.215, 0.311],
          ['SD', 50, 2.24, 0.419, 0.314],
          ['Random', 30.03, 1.41, 0.354, null],
          ['AdaDiff', 28.61, 1.35, 0.412, 0.314],
        ],
        notes: ['Time is seconds per image on this machine.'],
      },
      {
        title: 'Table 5. Reward functions',
        columns: [{ title: 'Reward' }, { title: 'Top-k' }, { title: 'Step', better: 'lower', digits: 2 }],
        rows: [
          ['steps only', '✓', 18.12],
          ['steps + judge', '✓', 28.61],
        ],
      },
    ],
    figures: [
      {
        name: 'fig3',
        caption: 'Figure 3. Mean chosen steps by number of words and of objects',
        spec: fig3Spec(fig3Rows),
        rows: fig3Rows,
      },
      {
        name: 'fig5',
        caption: 'Figure 5. Speed/quality trade-off as top-k and lambda vary',
        spec: fig5Spec(fig5Rows, 'Mean judge score'),
        rows: fig5Rows,
      },
    ],
    gallery: {
      caption: 'Figure 4. Easy, medium and hard prompts at every step count',
      steps: STEPS,
      rows: await writeGalleryImages(dir),
    },
  };
}
