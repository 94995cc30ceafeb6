/**
 * The one error a model folder raises. `file` is the path of the file at fault (or of the folder when
 * the fault is between files), and the message starts with it, so a log line alone says where to look.
 */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';

  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
  }
}
