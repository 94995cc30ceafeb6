import { escapeHtml, htmlPage } from '../report/html.js';

/**
 * The page at `/`: one form over `POST /v1/images`, showing the image, the steps and what they saved
 * against the reference step count. Self-contained (no scripts or styles from elsewhere), so it
 * works offline.
 */
export function tryItPage(opts: { modelName: string; hasPolicy: boolean; referenceSteps: number }): string {
  const fixed = [10, 20, 30, 40, 50].map((n) => `<option value="${n}">${n} steps</option>`).join('');
  const auto = opts.hasPolicy ? '<option value="auto" selected>auto (the policy chooses)</option>' : '';
  const body = `<h1>adadiff serve</h1>
<p class="sub">Model <b>${escapeHtml(opts.modelName)}</b>. AdaDiff picks the number of denoising steps per prompt.</p>
<form id="form">
  <label>Prompt <input id="prompt" name="prompt" required value="a big red circle on a white background"></label>
  <label>Steps <select id="steps" name="steps">${auto}${fixed}</select></label>
  <button id="go" type="submit">Generate</button>
</form>
<p id="error" role="alert"></p>
<div id="result">
  <img id="image" alt="generated image">
  <dl id="stats">
    <dt>Steps</dt><dd id="steps-chosen">-</dd>
    <dt>Policy</dt><dd id="probabilities">-</dd>
    <dt>Time</dt><dd id="time">-</dd>
    <dt>Saved against ${opts.referenceSteps} steps</dt><dd id="saved">-</dd>
  </dl>
</div>
<script>
const $ = (id) => document.getElementById(id);
$('form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('go').disabled = true;
  $('error').textContent = '';
  const steps = $('steps').value;
  try {
    const res = await fetch('/v1/images', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: $('prompt').value, steps: steps === 'auto' ? 'auto' : Number(steps) }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body.detail || res.statusText);
    $('image').src = 'data:image/png;base64,' + body.images[0].png;
    $('steps-chosen').textContent = body.steps + (body.stepsChosenBy === 'policy' ? ' (chosen by the policy)' : ' (as asked)');
    $('probabilities').textContent = body.policy
      ? Object.entries(body.policy.probabilities).map(([s, p]) => s + ': ' + (100 * p).toFixed(1) + '%').join(', ')
      : 'not used';
    const t = body.timings;
    $('time').textContent = t.generationMs.toFixed(0) + ' ms (' + t.msPerStep.toFixed(1) + ' ms a step, ' + t.queueMs.toFixed(0) + ' ms queued)';
    const atRef = t.generationMs + t.savedMsEstimate;
    $('saved').textContent = body.stepsSaved + ' steps, about ' + t.savedMsEstimate.toFixed(0) + ' ms (' +
      (100 * t.savedMsEstimate / atRef).toFixed(0) + '% of the time ${opts.referenceSteps} steps would take)';
  } catch (err) {
    $('error').textContent = String(err.message || err);
  } finally {
    $('go').disabled = false;
  }
});
</script>
`;
  return htmlPage(
    'adadiff serve',
    body,
    `  body { font-size: 15px; line-height: 1.45; max-width: 46rem; margin: 2rem auto; }
  h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
  .sub { color: #666; margin-top: 0; }
  form { display: grid; gap: 0.6rem; grid-template-columns: 1fr auto auto; align-items: end; }
  label { display: grid; gap: 0.2rem; font-weight: 600; }
  input, select, button { font: inherit; font-weight: normal; padding: 0.45rem 0.6rem; }
  button { cursor: pointer; }
  #result { display: flex; gap: 1.5rem; margin-top: 1.5rem; align-items: flex-start; }
  #image { width: 256px; height: 256px; background: #eee; border: 1px solid #ccc; }
  #stats { margin: 0; }
  #stats dt { font-weight: 600; }
  #stats dd { margin: 0 0 0.5rem 0; }
  #error { color: #b00020; }
`,
  );
}
