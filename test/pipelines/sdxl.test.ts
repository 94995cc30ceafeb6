import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadModelFolder } from '../../src/models/model-folder.js';
import { inputIdsTensor, sdxlTimeIds, Text2ImagePipeline } from '../../src/pipelines/text2img.js';
import { buildTinySdFolder, SDXL2_HIDDEN, SDXL2_PROJECTION } from '../fixtures/tiny-sd.js';

const tmp = await mkdtemp(join(tmpdir(), 'adadiff-sdxl-'));
after(() => rm(tmp, { recursive: true, force: true }));
const HIDDEN = 32;

test("SDXL time ids are diffusers' defaults: original and target size the image, no crop", () => {
  assert.deepEqual([...sdxlTimeIds(1024, 768, 2)], [1024, 768, 0, 0, 1024, 768, 1024, 768, 0, 0, 1024, 768]);
});

test("an SDXL folder: both encoders' penultimate states joined per token, the pooled projection beside", async () => {
  const dir = join(tmp, 'sdxl');
  await buildTinySdFolder(dir, { sdxl: true, hidden: HIDDEN });
  const pipe = await Text2ImagePipeline.load(dir);
  try {
    const { sdxl, textEncoder, tokenizer } = pipe.model;
    assert.ok(sdxl);
    assert.equal(textEncoder.hiddenOutput, 'hidden_states.1');
    assert.equal(sdxl.textEncoder2.hiddenOutput, 'hidden_states.1');
    const prompts = ['a red circle', 'a photo of a cat on a mat'];
    const { features } = await pipe.encodeText(prompts);
    assert.deepEqual(features.dims, [2, 77, HIDDEN + SDXL2_HIDDEN]);
    assert.equal(features.pooled?.dim, SDXL2_PROJECTION);
    // The same as running the two encoders by hand and joining hidden_states[-2] per token.
    const ids = tokenizer.encode(prompts).inputIds;
    const [one, two] = await Promise.all(
      [textEncoder, sdxl.textEncoder2].map((e) => e.run({ input_ids: inputIdsTensor(e, ids) })),
    );
    const a = one['hidden_states.1'].data as Float32Array;
    const b = two['hidden_states.1'].data as Float32Array;
    const row = 77 + 5; // prompt 2, token 5
    assert.deepEqual(
      [...features.data.subarray(row * (HIDDEN + SDXL2_HIDDEN), (row + 1) * (HIDDEN + SDXL2_HIDDEN))],
      [
        ...a.subarray(row * HIDDEN, (row + 1) * HIDDEN),
        ...b.subarray(row * SDXL2_HIDDEN, (row + 1) * SDXL2_HIDDEN),
      ],
    );
    assert.deepEqual([...(features.pooled?.data ?? [])], [...(two.text_embeds.data as Float32Array)]);

    // An empty negative prompt is zeros (force_zeros_for_empty_prompt), a given one is encoded.
    const empty = await pipe.encode(prompts);
    assert.ok(empty.uncond?.data.every((v) => v === 0) && empty.uncond.pooled?.data.every((v) => v === 0));
    const given = await pipe.encode(prompts, 'blurry');
    assert.ok(given.uncond?.data.some((v) => v !== 0));

    for (const scheduler of ['ddim', 'dpm'] as const) {
      const res = await pipe.generate({ prompts, steps: 3, seed: 1, scheduler });
      assert.equal(res.images.length, 2);
      assert.ok(res.images.every((img) => img.chw.every(Number.isFinite)));
      assert.deepEqual(res.features.dims, features.dims, 'the policy reads the joined features');
    }
  } finally {
    await pipe.model.release();
  }
});

test('SDXL folder errors name the file and what is missing', async () => {
  const dir = join(tmp, 'sdxl-bad');
  await buildTinySdFolder(dir, { sdxl: true, hidden: HIDDEN });
  const index = join(dir, 'model_index.json');
  const json = JSON.parse(await readFile(index, 'utf8'));
  await writeFile(index, JSON.stringify({ ...json, tokenizer_2: undefined }));
  await assert.rejects(loadModelFolder(dir), /model_index\.json: .*tokenizer_2.*\[library, class\]/);
  // Without text_encoder_2 in the index, a UNet taking text_embeds is refused.
  const { text_encoder_2: _, tokenizer_2: __, ...sd } = json;
  await writeFile(index, JSON.stringify(sd));
  await assert.rejects(
    loadModelFolder(dir),
    /unet[/\\]model\.onnx: takes SDXL's text_embeds and time_ids, but model_index\.json names no text_encoder_2/,
  );
  // An SD 1.x / 2.x text encoder (no hidden states) in an SDXL folder.
  await writeFile(index, JSON.stringify(json));
  await buildTinySdFolder(join(tmp, 'sd'), { hidden: HIDDEN });
  await writeFile(
    join(dir, 'text_encoder', 'model.onnx'),
    await readFile(join(tmp, 'sd', 'text_encoder', 'model.onnx')),
  );
  await assert.rejects(
    loadModelFolder(dir),
    /text_encoder[/\\]model\.onnx: an SDXL text encoder must output its hidden states/,
  );
});
