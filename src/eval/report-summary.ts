/**
 * The numbers the paper states in its text beside Table 1 and Figure 3: AdaDiff's quality against
 * the largest fixed step count with a bootstrap interval, the time saved, the oracle's steps, and
 * the rank correlation between prompt richness and the chosen steps.
 */
import type { Table } from '../report/report.js';
import type { BootstrapInterval } from '../util/statistics.js';
import type { MethodResult } from './report-methods.js';
import type { Outcome } from './report-offline.js';
import type { Richness } from './report-richness.js';

export interface SummaryInputs {
  ada: MethodResult;
  /** The largest fixed step count's row. */
  top: MethodResult;
  ci: BootstrapInterval;
  /** The oracle under the policy's own criterion, by the collected scores. */
  oracle: Outcome;
  criterion: string;
  richness: Richness;
  prompts: number;
  scoreName: string;
}

export function summaryTable(s: SummaryInputs): Table {
  const { ada, top, ci, oracle, richness } = s;
  return {
    title: 'Summary: AdaDiff against the largest fixed step count, the oracle, prompt richness',
    columns: [
      { title: 'Statistic' },
      { title: 'Value', digits: 3 },
      { title: 'CI lower', digits: 3 },
      { title: 'CI upper', digits: 3 },
    ],
    rows: [
      [
        `${s.scoreName}: AdaDiff − ${top.row.method}, mean over prompts ` +
          `(${100 * ci.level}% paired bootstrap CI, ${ci.resamples} resamples of prompts)`,
        ci.estimate,
        ci.lower,
        ci.upper,
      ],
      [
        `Time saved by AdaDiff vs ${top.row.method} (%, measured)`,
        100 * (1 - ada.row.secondsPerImage / top.row.secondsPerImage),
        null,
        null,
      ],
      [`Oracle mean steps (fewest steps meeting ${s.criterion})`, oracle.meanSteps, null, null],
      [`Oracle mean ${s.scoreName} (collected)`, oracle.quality, null, null],
      ["Spearman's rho: objects vs chosen steps", richness.objectsRho, null, null],
      ["Spearman's rho: words vs chosen steps", richness.wordsRho, null, null],
    ],
    timingRows: [1],
    notes: [`Over the ${s.prompts} evaluated prompts.`, ...richness.notes],
  };
}
