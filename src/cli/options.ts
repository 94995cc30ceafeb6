import { Option } from 'commander';
import { DEFAULT_MODEL_DIR } from '../paths.js';

/** `--model DIR`, defaulting to the embedded model; help names it once, in words, not as a path. */
export const modelOption = (description = 'model folder'): Option =>
  new Option('--model <dir>', description).default(DEFAULT_MODEL_DIR, 'the embedded shapes model');
