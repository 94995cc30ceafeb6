import { DDIMScheduler } from './ddim.js';
import { DPMSolverMultistepScheduler } from './dpm-solver.js';
import type { Scheduler, SchedulerKind } from './scheduler.js';

/** Builds a scheduler from a diffusers `scheduler_config.json` object (validated; see `config.ts`). */
export function createScheduler(kind: SchedulerKind, config: unknown): Scheduler {
  switch (kind) {
    case 'ddim':
      return DDIMScheduler.fromConfig(config);
    case 'dpm':
      return DPMSolverMultistepScheduler.fromConfig(config);
    default:
      throw new Error(`unknown scheduler kind ${JSON.stringify(kind)}; expected 'ddim' or 'dpm'`);
  }
}
