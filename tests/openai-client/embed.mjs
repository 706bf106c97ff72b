// Drives ClipService's OpenAI-compatible endpoints with the official OpenAI client, as an application would.
// Usage: node embed.mjs BASE_URL (e.g. http://127.0.0.1:PORT/v1) MODEL IMAGE_PNG_BASE64
// Prints one JSON object with what the client returned; the .NET test compares it with /embed/text and /embed/image.
import OpenAI from 'openai';

const [baseURL, model, imageBase64] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'not-used', maxRetries: 0 });
const texts = ['a photo of a red circle.', 'a photo of a blue star.'];

// The client asks for base64 by default and decodes it into numbers itself.
const byDefault = await client.embeddings.create({ model, input: texts });
const asFloat = await client.embeddings.create({ model, input: texts, encoding_format: 'float' });
// "modality" is ClipService's extension; the client passes unknown fields through.
const image = await client.embeddings.create({ model, input: [`data:image/png;base64,${imageBase64}`], modality: 'image' });
const models = await client.models.list();

let unknownModel;
try {
  await client.embeddings.create({ model: 'no-such-model', input: 'x' });
} catch (error) {
  unknownModel = { status: error.status, code: error.code, type: error.type, param: error.param, isNotFound: error instanceof OpenAI.NotFoundError };
}

const vectors = (response) => response.data.map((d) => Array.from(d.embedding));
console.log(JSON.stringify({
  default: { embeddings: vectors(byDefault), usage: byDefault.usage, model: byDefault.model, object: byDefault.object },
  float: { embeddings: vectors(asFloat), usage: asFloat.usage },
  image: { embeddings: vectors(image), usage: image.usage },
  models: models.data.map((m) => m.id),
  unknownModel,
}));
