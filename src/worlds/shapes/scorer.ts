import type { QualityScorer } from '../../quality/scorer.js';
import { judge } from './judge.js';
import { parsePrompt } from './parse.js';

/** The shapes world's judge as a quality scorer; a fully correct image also scores parts.success = 1. */
export const worldJudgeScorer: QualityScorer = {
  name: 'shapes-judge',
  async score(prompts, images) {
    return images.map((img, i) => {
      if (img.width !== img.height)
        throw new Error(`the shapes judge needs square images, got ${img.width}x${img.height}`);
      const s = judge(prompts[i], img.chw, img.width);
      return { total: s.total, parts: { ...s.parts, raw: s.raw, success: s.success ? 1 : 0 } };
    });
  },
  checkPrompt(prompt) {
    try {
      parsePrompt(prompt);
      return null;
    } catch (err) {
      return (err as Error).message.replace(/^parsePrompt: /, '');
    }
  },
};
