/** Mean and standard deviation of values seen in chunks (one pass, sums in float64). */
export class Moments {
  private n = 0;
  private sum = 0;
  private sumSq = 0;

  add(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      this.sum += values[i];
      this.sumSq += values[i] * values[i];
    }
    this.n += values.length;
  }

  get mean(): number {
    return this.sum / this.n;
  }

  get std(): number {
    return Math.sqrt(this.sumSq / this.n - this.mean ** 2);
  }
}
