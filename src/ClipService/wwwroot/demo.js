// The try-it page: one image and a list of labels go to POST classify; the ranking comes back as bars.
// Every URL is relative to this module, so the page also works under a path base behind a reverse proxy.
const endpoint = path => new URL(path, import.meta.url);
const $ = id => document.getElementById(id);

const form = $('classify-form');
const imageInput = $('image');
const preview = $('preview');
const labelsInput = $('labels');
const modelSelect = $('model');
const templateSetSelect = $('template-set');
const templateInput = $('template');
const labelSetSelect = $('label-set');
const apiKeyInput = $('api-key');
const submitButton = $('submit');
const defaultTemplate = templateInput.defaultValue;
const apiKeyStorage = 'clipservice.apiKey';

// The controls a problem can be about; anything else is shown beside the submit button.
const controls = { image: imageInput, labels: labelsInput, 'label-set': labelSetSelect, model: modelSelect,
  template: templateInput, 'api-key': apiKeyInput, form: submitButton };

let image = null;
let previewUrl = null;
let busy = false;

// ---- the image: picker, drop, paste, sample ----

function useImage(file) {
  image = file ?? null;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = image ? URL.createObjectURL(image) : null;
  preview.hidden = !image;
  if (image) preview.src = previewUrl;
  else preview.removeAttribute('src');
  clearError('image');
}

// Puts a dropped, pasted or drawn file into the file control too, so what it shows is what will be sent.
function setFileControl(file) {
  const files = new DataTransfer();
  files.items.add(file);
  imageInput.files = files.files;
}

imageInput.addEventListener('change', () => useImage(imageInput.files[0]));

const dropZone = $('drop-zone');
dropZone.addEventListener('dragover', event => {
  event.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', event => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
  const file = event.dataTransfer.files[0];
  if (!file) return;
  setFileControl(file);
  useImage(file);
});

document.addEventListener('paste', event => {
  const file = [...event.clipboardData.files].find(f => f.type.startsWith('image/'));
  if (!file) return;
  event.preventDefault();
  const named = file.name ? file : new File([file], 'pasted.png', { type: file.type });
  setFileControl(named);
  useImage(named);
});

// A picture the default model knows, for trying the page without one at hand.
$('sample').addEventListener('click', () => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 224;
  const context = canvas.getContext('2d');
  const sky = context.createLinearGradient(0, 0, 224, 224);
  sky.addColorStop(0, '#d8e4f0');
  sky.addColorStop(1, '#9fb8cf');
  context.fillStyle = sky;
  context.fillRect(0, 0, 224, 224);
  context.fillStyle = '#dc1e1e';
  context.beginPath();
  context.arc(112, 112, 64, 0, 2 * Math.PI);
  context.fill();
  canvas.toBlob(blob => {
    const file = new File([blob], 'red-circle.png', { type: 'image/png' });
    setFileControl(file);
    useImage(file);
  }, 'image/png');
});

// ---- the API key, models and label sets ----

apiKeyInput.value = sessionStorage.getItem(apiKeyStorage) ?? '';
apiKeyInput.addEventListener('change', () => {
  const key = apiKeyInput.value.trim();
  if (key) sessionStorage.setItem(apiKeyStorage, key);
  else sessionStorage.removeItem(apiKeyStorage);
  clearError('api-key');
  loadModels();
  loadLabelSets();
});

function authorization() {
  const key = apiKeyInput.value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function loadModels() {
  clearError('model');
  let response;
  try {
    response = await fetch(endpoint('models'), { headers: authorization() });
  } catch {
    showError('model', 'The service could not be reached to list its models.');
    return;
  }
  if (!response.ok) {
    await showProblem(response, { fallback: 'model' });
    return;
  }
  const models = await response.json();
  if (models.length === 0) {
    $('model-hint').textContent = 'The models are still loading…';
    setTimeout(loadModels, 2000);
    return;
  }
  const chosen = modelSelect.value;
  modelSelect.replaceChildren(...models.map(model =>
    new Option(model.default ? `${model.name} (default)` : model.name, model.name, false,
      chosen ? model.name === chosen : model.default)));
  describeModel(models);
  modelSelect.onchange = () => describeModel(models);
}

function describeModel(models) {
  const model = models.find(m => m.name === modelSelect.value);
  $('model-hint').textContent = model
    ? `${model.embedding_size}-d embeddings, ${model.image_size} px images, ${model.provider}` : '';
}

// Named label sets, where the service has them (GET label-sets); without them the control stays hidden.
async function loadLabelSets() {
  let response;
  try {
    response = await fetch(endpoint('label-sets'), { headers: authorization() });
  } catch {
    return;
  }
  if (!response.ok) return;
  const body = await response.json();
  const sets = Array.isArray(body) ? body : Object.values(body).find(Array.isArray) ?? [];
  const named = sets.filter(set => typeof set?.name === 'string');
  if (named.length === 0) return;
  const count = set => set.label_count ?? (Array.isArray(set.labels) ? set.labels.length : set.labels);
  labelSetSelect.replaceChildren(labelSetSelect.options[0],
    ...named.map(set => new Option(count(set) ? `${set.name} (${count(set)} labels)` : set.name, set.name)));
  $('label-set-field').hidden = false;
}

labelSetSelect.addEventListener('change', () => { labelsInput.disabled = labelSetSelect.value !== ''; });
templateSetSelect.addEventListener('change', () => { templateInput.disabled = templateSetSelect.value !== ''; });

// ---- the request ----

// The form as the API's fields, in order; the default template is left out (the service applies it, and a
// label set's own templates take over).
function requestFields() {
  const fields = [];
  if (labelSetSelect.value) fields.push(['label_set', labelSetSelect.value]);
  else for (const label of labelsInput.value.split('\n').map(l => l.trim()).filter(Boolean)) fields.push(['labels', label]);
  if (modelSelect.value) fields.push(['model', modelSelect.value]);
  if (templateSetSelect.value) fields.push(['templates', templateSetSelect.value]);
  else if (templateInput.value.trim() && templateInput.value.trim() !== defaultTemplate) fields.push(['template', templateInput.value.trim()]);
  return fields;
}

form.addEventListener('submit', async event => {
  event.preventDefault();
  if (busy) return;
  for (const name of Object.keys(controls)) clearError(name);
  $('ranking').replaceChildren();
  $('timings').textContent = '';
  $('curl-field').hidden = true;

  const fields = requestFields();
  const body = new FormData();
  if (image) body.append('image', image, image.name || 'image');
  for (const [name, value] of fields) body.append(name, value);

  setBusy(true);
  const started = performance.now();
  try {
    const response = await fetch(endpoint('classify'), { method: 'POST', headers: authorization(), body });
    if (!response.ok) {
      await showProblem(response, { focus: true });
      $('status').textContent = 'No ranking: see the message beside the form.';
      return;
    }
    showRanking(await response.json(), performance.now() - started);
    showCurl(fields);
    // On a phone the ranking is below the form: bring it up.
    if ($('results').getBoundingClientRect().top > window.innerHeight * 0.6) $('results').scrollIntoView({ block: 'start' });
  } catch (error) {
    showError('form', `The request did not get an answer (${error.message}). Is the service running?`, { focus: true });
    $('status').textContent = 'No ranking.';
  } finally {
    setBusy(false);
  }
});

// The button stays focusable while busy (a disabled one would drop keyboard focus); a second submit is ignored.
function setBusy(value) {
  busy = value;
  submitButton.setAttribute('aria-disabled', String(busy));
  submitButton.textContent = busy ? 'Classifying…' : 'Classify';
  $('results').setAttribute('aria-busy', String(busy));
  if (busy) $('status').textContent = 'Classifying…';
}

// ---- the answer ----

const percent = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

function showRanking(result, roundTripMs) {
  const items = result.labels.map(({ label, score, similarity }) => {
    const item = document.createElement('li');
    item.className = 'result';
    item.dataset.label = label;
    item.dataset.score = String(score);
    const name = document.createElement('span');
    name.className = 'result-label';
    name.textContent = label;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.setAttribute('aria-hidden', 'true');
    bar.style.setProperty('--score', String(score));
    const figures = document.createElement('span');
    figures.className = 'figures';
    figures.textContent = `${percent.format(score)} · cosine ${similarity.toFixed(3)}`;
    item.append(name, figures, bar);
    return item;
  });
  $('ranking').replaceChildren(...items);
  const note = scoringNotes[result.scoring];
  $('scoring-note').textContent = note ?? '';
  $('scoring-note').hidden = !note;
  const templates = result.templates.length === 1 ? `template “${result.templates[0]}”` : `${result.templates.length} templates`;
  $('status').textContent = `${result.model} on ${result.provider} · ${templates}`;
  const t = result.timings;
  $('timings').textContent = `Service: image ${ms(t.image_ms)}, text ${ms(t.text_ms)}, total ${ms(t.total_ms)}. ` +
    `Round trip from this browser: ${ms(roundTripMs)}.`;
}

const ms = value => `${value.toFixed(1)} ms`;

// What a score means depends on the model's family (GET /models says it too).
const scoringNotes = {
  softmax: 'Scores are shares of one softmax over these labels: they sum to 100 %, so adding a label lowers the others.',
  sigmoid: 'Independent probabilities (sigmoid per label, as SigLIP scores): each says how well that label alone fits, '
    + 'so they need not sum to 100 %, and adding or removing a label does not change the others.',
  rank: 'Cosine ranking: this model\'s folder has no trained logit bias, so the scores are cosine similarities, not probabilities.',
};

// The request as a shell command; the key stays out of it (it is read from $CLIP_API_KEY).
function showCurl(fields) {
  const quote = value => `'${value.replaceAll("'", "'\\''")}'`;
  const parts = ['curl'];
  if (apiKeyInput.value.trim()) parts.push('-H "Authorization: Bearer $CLIP_API_KEY"');
  parts.push(`-F ${quote(`image=@${image?.name || 'image.png'}`)}`);
  for (const [name, value] of fields) parts.push(`-F ${quote(`${name}=${value}`)}`);
  parts.push(quote(endpoint('classify').href));
  $('curl').value = parts.join(' ');
  $('curl-field').hidden = false;
  $('copy-status').textContent = '';
}

$('copy-curl').addEventListener('click', async () => {
  const curl = $('curl');
  try {
    await navigator.clipboard.writeText(curl.value);
    $('copy-status').textContent = 'Copied.';
  } catch {
    // Without clipboard access (plain http off localhost) leave it selected for Ctrl+C.
    curl.focus();
    curl.select();
    $('copy-status').textContent = 'Selected: press Ctrl+C to copy.';
  }
});

// ---- problems ----

// Which control a problem is about, from its status and words (ProblemDetails carry no field name).
function controlFor(status, problem) {
  const title = problem.title ?? '';
  const detail = problem.detail ?? '';
  if (status === 401 || status === 403) return 'api-key';
  if (status === 413 || /image/i.test(title)) return 'image';
  if (status === 404 && /model/i.test(title)) return 'model';
  if (status === 400) {
    if (/label.?set/i.test(detail)) return labelSetSelect.value ? 'label-set' : 'labels';
    if (/label/i.test(detail)) return 'labels';
    if (/template/i.test(detail)) return 'template';
    if (/'image'|\bimage\b/i.test(detail)) return 'image';
    if (/model/i.test(detail)) return 'model';
  }
  return 'form';
}

async function showProblem(response, { fallback = 'form', focus = false } = {}) {
  let problem;
  try {
    problem = await response.json();
  } catch {
    problem = { title: response.statusText || `HTTP ${response.status}` };
  }
  let message = [problem.title, problem.detail].filter(Boolean).join(': ') || `HTTP ${response.status}`;
  const retryAfter = response.headers.get('Retry-After');
  if (retryAfter) message += ` Try again in ${retryAfter} s.`;
  const target = controlFor(response.status, problem);
  showError(target === 'form' ? fallback : target, message, { focus });
}

function showError(name, message, { focus = false } = {}) {
  const error = $(`${name}-error`);
  error.textContent = message;
  error.hidden = false;
  if (name !== 'form') controls[name].setAttribute('aria-invalid', 'true');
  if (focus && !controls[name].disabled) controls[name].focus();
}

function clearError(name) {
  $(`${name}-error`).hidden = true;
  $(`${name}-error`).textContent = '';
  controls[name].removeAttribute('aria-invalid');
}

loadModels();
loadLabelSets();
