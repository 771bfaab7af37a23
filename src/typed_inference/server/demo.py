"""Builds tiny, randomly initialised demo models (tokenizers trained on the fly) for every task the server runs.

Their weights are random: they answer in the right shapes, with the right types, and say nothing true. They exist so
that every task can be served, called and tested on a machine with no network and no downloaded model.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typed_inference.server.backends._hf import quiet, tokenizers, transformers

MANIFEST = "typed-inference-models.json"
RANDOM_NOTE = "Randomly initialised weights: the outputs have the right shapes and types but are random."

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Paris is the capital of France and Berlin is the capital of Germany.",
    "Hugging Face is based in Brooklyn, New York.",
    "The goal of life is to be happy and to help others.",
    "A man is eating food. A man is riding a horse. Someone is playing the guitar.",
    "I love this movie, it is wonderful. I hate the rain, it is awful.",
    "My name is Sarah and I live in London with my cat.",
    "The weather today is sunny with a light breeze from the west.",
    "Machine learning models turn text, images and audio into numbers.",
    "She sells sea shells by the sea shore on a bright summer morning.",
    "The train to Amsterdam leaves at nine o'clock from platform four.",
    "Translate English to French: the house is wonderful.",
    "Summarize: the committee met on Tuesday and agreed on the new budget for schools.",
    "Who wrote the book? When did the war end? Where is the museum?",
    "Dogs, cats and birds are animals; apples, pears and plums are fruit.",
    "user: hello, how are you? assistant: I am fine, thank you.",
]

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


@dataclass(frozen=True)
class DemoModel:
    """One demo model: its id on the server, its folder name, its task and the function that writes it."""

    model_id: str
    folder: str
    task: str
    build: Callable[[Path], None]


# -- tokenizers ---------------------------------------------------------------------------------------------------
def _wordpiece(target: Path, max_length: int = 128) -> Any:
    """A BERT-style WordPiece tokenizer trained on the corpus, saved to `target`."""
    tk = tokenizers()
    tf = transformers()

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = tk.Tokenizer(tk.models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = tk.normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = tk.pre_tokenizers.BertPreTokenizer()
    trainer = tk.trainers.WordPieceTrainer(vocab_size=400, special_tokens=special, show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = tk.processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.decoder = tk.decoders.WordPiece()
    fast = tf.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_length,
    )
    fast.save_pretrained(target)
    return fast


def _byte_bpe(target: Path, *, seq2seq: bool, max_length: int = 128) -> Any:
    """A GPT-2-style byte-level BPE tokenizer (or a BART-style one with <s> … </s>) trained on the corpus."""
    tk = tokenizers()
    tf = transformers()

    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] if seq2seq else ["<|endoftext|>"]
    tok = tk.Tokenizer(tk.models.BPE())
    tok.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=special,
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,  # its progress bars print blank lines when stdout is not a terminal
    )
    tok.train_from_iterator(CORPUS, trainer)
    if seq2seq:
        bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
        tok.post_processor = tk.processors.TemplateProcessing(
            single="<s> $A </s>", pair="<s> $A </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
        )
        fast = tf.PreTrainedTokenizerFast(
            tokenizer_object=tok,
            bos_token="<s>",
            eos_token="</s>",
            pad_token="<pad>",
            unk_token="<unk>",
            mask_token="<mask>",
            model_max_length=max_length,
        )
    else:
        end = "<|endoftext|>"
        fast = tf.PreTrainedTokenizerFast(
            tokenizer_object=tok,
            bos_token=end,
            eos_token=end,
            unk_token=end,
            pad_token=end,
            model_max_length=max_length,
        )
        fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(target)
    return fast


def _ctc_tokenizer(target: Path) -> Any:
    """A character-level CTC tokenizer whose vocabulary is the letters of the corpus."""
    tf = transformers()

    letters = sorted({c for line in CORPUS for c in line.lower() if c in string.ascii_lowercase + "'"})
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2}
    vocab.update({c: i + len(vocab) for i, c in enumerate(letters)})
    target.mkdir(parents=True, exist_ok=True)
    vocab_file = target / "vocab.json"
    vocab_file.write_text(json.dumps(vocab), encoding="utf-8")
    return tf.Wav2Vec2CTCTokenizer(str(vocab_file), word_delimiter_token="|", bos_token=None, eos_token=None)


# -- models -------------------------------------------------------------------------------------------------------
def _bert_config(vocab_size: int, **extra: Any) -> Any:
    tf = transformers()

    return tf.BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        **extra,
    )


def _labels(names: list[str]) -> dict[str, Any]:
    return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}


def _fill_mask(target: Path) -> None:
    tf = transformers()

    tok = _wordpiece(target)
    tf.BertForMaskedLM(_bert_config(len(tok))).save_pretrained(target)


def _text_classification(target: Path) -> None:
    tf = transformers()

    tok = _wordpiece(target)
    config = _bert_config(len(tok), **_labels(["NEGATIVE", "POSITIVE"]))
    tf.BertForSequenceClassification(config).save_pretrained(target)


def _zero_shot(target: Path) -> None:
    tf = transformers()

    tok = _wordpiece(target)
    config = _bert_config(len(tok), **_labels(["contradiction", "neutral", "entailment"]))
    tf.BertForSequenceClassification(config).save_pretrained(target)


def _token_classification(target: Path) -> None:
    tf = transformers()

    tok = _wordpiece(target)
    config = _bert_config(len(tok), **_labels(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]))
    tf.BertForTokenClassification(config).save_pretrained(target)


def _question_answering(target: Path) -> None:
    tf = transformers()

    tok = _wordpiece(target)
    tf.BertForQuestionAnswering(_bert_config(len(tok))).save_pretrained(target)


def _text_generation(target: Path) -> None:
    tf = transformers()

    tok = _byte_bpe(target, seq2seq=False)
    end = tok.convert_tokens_to_ids("<|endoftext|>")
    config = tf.GPT2Config(
        vocab_size=len(tok), n_positions=128, n_embd=32, n_layer=2, n_head=2, bos_token_id=end, eos_token_id=end
    )
    model = tf.GPT2LMHeadModel(config)
    model.generation_config = tf.GenerationConfig(bos_token_id=end, eos_token_id=end, pad_token_id=end)
    model.save_pretrained(target)


def _seq2seq(target: Path) -> None:
    tf = transformers()

    tok = _byte_bpe(target, seq2seq=True)
    ids = {name: tok.convert_tokens_to_ids(name) for name in ("<s>", "<pad>", "</s>")}
    config = tf.BartConfig(
        vocab_size=len(tok),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        bos_token_id=ids["<s>"],
        pad_token_id=ids["<pad>"],
        eos_token_id=ids["</s>"],
        decoder_start_token_id=ids["</s>"],
        forced_eos_token_id=ids["</s>"],
    )
    model = tf.BartForConditionalGeneration(config)
    model.generation_config = tf.GenerationConfig(
        bos_token_id=ids["<s>"],
        pad_token_id=ids["<pad>"],
        eos_token_id=ids["</s>"],
        decoder_start_token_id=ids["</s>"],
        min_new_tokens=6,
        max_new_tokens=20,
        no_repeat_ngram_size=1,
    )
    model.save_pretrained(target)


def _image_classification(target: Path) -> None:
    tf = transformers()

    tf.ViTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(target)
    config = tf.ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        **_labels(["cat", "dog", "bird"]),
    )
    tf.ViTForImageClassification(config).save_pretrained(target)


def _object_detection(target: Path) -> None:
    tf = transformers()

    tf.YolosImageProcessorPil(size={"shortest_edge": 32, "longest_edge": 64}).save_pretrained(target)
    config = tf.YolosConfig(
        image_size=[32, 32],
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_detection_tokens=5,
        **_labels(["cat", "dog"]),
    )
    tf.YolosForObjectDetection(config).save_pretrained(target)


def _wav2vec2_config(**extra: Any) -> Any:
    tf = transformers()

    return tf.Wav2Vec2Config(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8, 8, 8),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 4, 4),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        do_stable_layer_norm=False,
        **extra,
    )


def _feature_extractor() -> Any:
    tf = transformers()

    return tf.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=False
    )


def _speech_recognition(target: Path) -> None:
    tf = transformers()

    tokenizer = _ctc_tokenizer(target)
    tf.Wav2Vec2Processor(feature_extractor=_feature_extractor(), tokenizer=tokenizer).save_pretrained(target)
    config = _wav2vec2_config(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    tf.Wav2Vec2ForCTC(config).save_pretrained(target)


def _audio_classification(target: Path) -> None:
    tf = transformers()

    _feature_extractor().save_pretrained(target)
    config = _wav2vec2_config(**_labels(["yes", "no", "up", "down"]))
    tf.Wav2Vec2ForSequenceClassification(config).save_pretrained(target)


DEMO_MODELS = (
    DemoModel("demo/fill-mask", "fill-mask", "fill-mask", _fill_mask),
    DemoModel("demo/text-classification", "text-classification", "text-classification", _text_classification),
    DemoModel("demo/token-classification", "token-classification", "token-classification", _token_classification),
    DemoModel("demo/question-answering", "question-answering", "question-answering", _question_answering),
    DemoModel("demo/zero-shot-classification", "zero-shot-classification", "zero-shot-classification", _zero_shot),
    DemoModel("demo/text-generation", "text-generation", "text-generation", _text_generation),
    DemoModel("demo/summarization", "summarization", "summarization", _seq2seq),
    DemoModel("demo/translation", "translation", "translation", _seq2seq),
    DemoModel("demo/image-classification", "image-classification", "image-classification", _image_classification),
    DemoModel("demo/object-detection", "object-detection", "object-detection", _object_detection),
    DemoModel("demo/speech-recognition", "speech-recognition", "automatic-speech-recognition", _speech_recognition),
    DemoModel("demo/audio-classification", "audio-classification", "audio-classification", _audio_classification),
)


def _model_card(model: DemoModel) -> str:
    """A model card with the front matter the server reads a model's task from, saying that it is random."""
    return (
        f"---\npipeline_tag: {model.task}\nlibrary_name: transformers\ntags:\n- typed-inference-demo\n"
        f"- random-weights\n---\n# {model.model_id}\n\nA tiny demo model for `{model.task}`, built by "
        f"`typed-inference demo-models`. {RANDOM_NOTE}\n"
    )


def build_demo_models(directory: Path, tasks: set[str] | None = None) -> dict[str, dict[str, str]]:
    """Writes the demo models (all, or those of `tasks`) and their manifest under `directory`; returns the manifest."""
    import torch

    quiet()
    directory.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, str]] = {}
    for model in DEMO_MODELS:
        if tasks is not None and model.task not in tasks:
            continue
        torch.manual_seed(0)
        target = directory / model.folder
        target.mkdir(parents=True, exist_ok=True)
        model.build(target)
        (target / "README.md").write_text(_model_card(model), encoding="utf-8")
        manifest[model.model_id] = {"path": model.folder, "task": model.task}
    (directory / MANIFEST).write_text(json.dumps({"models": manifest}, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(directory: Path) -> dict[str, tuple[Path, str]]:
    """The models a demo-models folder holds: id → (path, task)."""
    data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    root = directory.resolve()
    found = {}
    for model_id, entry in data["models"].items():
        path = (root / entry["path"]).resolve()
        if not path.is_relative_to(root):  # a manifest names folders inside its own, never elsewhere on the disk
            raise ValueError(f"{directory / MANIFEST}: the path of {model_id}, {entry['path']}, is outside {directory}")
        found[model_id] = (path, entry["task"])
    return found
