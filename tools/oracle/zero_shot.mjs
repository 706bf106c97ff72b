// Records transformers.js's answers for the family test models that tools/make_family_models.py writes.
//
//   (cd tools/oracle && npm ci) && node tools/oracle/zero_shot.mjs [tests/assets/families]
//
// Hugging Face layout folders: the zero-shot-image-classification pipeline on the COMBINED onnx/model.onnx, fed the
// 32x32 images unresized (its resize is not PIL's), plus the ids and text embeddings the same tokenizer and graph
// give. ClipService runs the split graphs and must reproduce them. immich folders (which transformers.js cannot
// load as models): the tokenizer's ids padded to the graph's fixed length with the pad token, and the text graph's
// embedding for each, run one prompt at a time as the graph requires. Their text is first cleaned as open_clip
// does (config.json text_cfg.tokenizer_kwargs.clean, default whitespace), by open_clip_clean.py.
// Output: reference.json in each folder.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline, AutoTokenizer, PreTrainedTokenizer, RawImage, env } from '@huggingface/transformers';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';

const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..', '..', 'tests', 'assets', 'families'));
env.allowRemoteModels = false;
env.localModelPath = root + path.sep;
const images = ['gradient', 'disc', 'stripes'].map((name) => `images/${name}.png`);

// What the service is sent, and what transformers.js is given for it. SigLIP 2 was trained on lowercased text
// and its tokenizer.json does not lowercase: the reference gets lowercased text, the service the original.
const hfCases = [
    { folder: 'siglip', template: 'This is a photo of {}.', labels: ['cat', 'dog', 'red car', 'Bird!', 'a  plane', '一只猫'] },
    { folder: 'siglip2', template: 'This is a photo of {}.', labels: ['Cat', 'DOG', 'red car', 'bird', 'İstanbul', '猫'], lowercase: true },
    { folder: 'chinese-clip', template: '一张{}的照片。', labels: ['猫', '狗', '汽车', '飞机', 'red car', '自行车'] },
];
const immichCases = [
    { folder: 'immich-xlmr', prompts: ['a photo of a cat.', '一张猫的照片。', 'A  DOG!', '', ' a\tcat\n on  a_mat '] },
    { folder: 'immich-siglip2', prompts: ['This is a photo of a Cat.', 'red car', 'ΟΔΟΣ', 'a_dog', 'A DOG!', "rock'n'roll, ΑΣ-Β"] },
];

const round = (x, digits) => Number(x.toFixed(digits));
const rows = (tensor) => {
    const [n, d] = tensor.dims;
    return Array.from({ length: n }, (_, i) => Array.from(tensor.data.slice(i * d, (i + 1) * d), (v) => (typeof v === "bigint" ? Number(v) : round(v, 8))));
};

for (const c of hfCases) {
    const classifier = await pipeline('zero-shot-image-classification', c.folder, { dtype: 'fp32' });
    const given = (s) => (c.lowercase ? s.toLowerCase() : s);
    const labels = c.labels.map(given);
    const template = given(c.template);
    const scores = [];
    for (const image of images) {
        const ranked = await classifier(path.join(root, image), labels, { hypothesis_template: template });
        const byLabel = new Map(ranked.map((r) => [r.label, r.score]));
        scores.push(labels.map((l) => round(byLabel.get(l), 9)));
    }
    const prompts = labels.map((l) => template.replace('{}', l));
    const isSigmoid = classifier.model.config.model_type === 'siglip';
    const textInputs = classifier.tokenizer(prompts, { padding: isSigmoid ? 'max_length' : true, truncation: true });
    const { pixel_values } = await classifier.processor(await RawImage.read(path.join(root, images[0])));
    const output = await classifier.model({ ...textInputs, pixel_values });
    const reference = {
        description: `transformers.js ${env.version}: zero-shot-image-classification on onnx/model.onnx (written by tools/oracle/zero_shot.mjs)`,
        template: c.template,
        labels: c.labels,
        images,
        scoring: isSigmoid ? 'sigmoid' : 'softmax',
        scores,
        prompts,
        input_ids: rows(textInputs.input_ids),
        text_embeds: rows(output.text_embeds),
    };
    fs.writeFileSync(path.join(root, c.folder, 'reference.json'), JSON.stringify(reference, null, 1) + '\n');
    console.log(`${c.folder}: ${labels.length} labels x ${images.length} images`);
}

for (const c of immichCases) {
    const textual = path.join(c.folder, 'textual');
    const tokenizer = await AutoTokenizer.from_pretrained(textual);
    const session = await ort.InferenceSession.create(path.join(root, textual, 'model.onnx'));
    const input = session.inputNames[0];
    const textCfg = JSON.parse(fs.readFileSync(path.join(root, c.folder, 'config.json'))).text_cfg;
    const length = textCfg.context_length ?? 77;
    const clean = textCfg.tokenizer_kwargs?.clean ?? 'whitespace';
    const cleaned = JSON.parse(execFileSync('/usr/bin/python3', [path.join(import.meta.dirname, 'open_clip_clean.py')],
        { input: JSON.stringify({ clean, texts: c.prompts }) }).toString());
    const padId = tokenizer.pad_token_id;
    const ids = [];
    const embeddings = [];
    for (const prompt of cleaned) {
        const tokens = tokenizer.encode(prompt).slice(0, length);
        const padded = [...tokens, ...Array(length - tokens.length).fill(padId)];
        const result = await session.run({ [input]: new ort.Tensor('int64', BigInt64Array.from(padded.map(BigInt)), [1, length]) });
        const e = Array.from(result[session.outputNames[0]].data);
        const norm = Math.hypot(...e);
        ids.push(tokens);
        embeddings.push(e.map((v) => round(v / norm, 8)));
    }
    const reference = {
        description: `open_clip's '${clean}' cleaning (open_clip_clean.py), transformers.js ${env.version} tokenizer + onnxruntime-node on textual/model.onnx, one prompt per run, padded with ${tokenizer.pad_token} (${padId}) to ${length} (written by tools/oracle/zero_shot.mjs)`,
        clean,
        prompts: c.prompts,
        cleaned,
        input_ids: ids,
        pad_id: padId,
        text_embeds: embeddings,
    };
    fs.writeFileSync(path.join(root, c.folder, 'reference.json'), JSON.stringify(reference, null, 1) + '\n');
    console.log(`${c.folder}: ${c.prompts.length} prompts`);
}

// Final sigma when a normalizer deletes characters before it lowercases (SigLIP's shape: punctuation dropped,
// then lowercased): transformers.js decides the context on the text its Lowercase step sees. SigLIP 2's byte-fallback
// vocabulary tells σ from ς, so its tokenizer.json is used with such a normalizer.
{
    const folder = path.join(root, 'siglip2');
    const tokenizerJson = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer.json')));
    const normalizer = {
        type: 'Sequence',
        normalizers: [
            { type: 'Replace', pattern: { Regex: "[!-/:-@\\[-`{-~]" }, content: '' },
            { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
            { type: 'Lowercase' },
        ],
    };
    const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer_config.json')));
    const tokenizer = new PreTrainedTokenizer({ ...tokenizerJson, normalizer }, tokenizerConfig);
    const texts = ['ΑΣ-Β', 'ΟΔΟΣ!', 'ΑΣ.Β', 'ΑΣΒ', 'ΟΔΟΣ', 'Η ΟΔΟΣ-ΟΔΟΣ', 'ΑΣ\'Β'];
    const reference = {
        description: `transformers.js ${env.version} on siglip2/tokenizer.json with this normalizer (written by tools/oracle/zero_shot.mjs)`,
        normalizer,
        texts,
        input_ids: texts.map((t) => tokenizer.encode(t)),
    };
    fs.writeFileSync(path.join(folder, 'sigma-reference.json'), JSON.stringify(reference, null, 1) + '\n');
    console.log(`siglip2 sigma: ${texts.length} texts`);
}
