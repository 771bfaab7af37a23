"""One realistic call per task of the registry: the typed method's arguments, the exact request it must produce,
and a canonical response the server answers with (used by tests/test_tasks.py)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

MODEL = "org/model"
MODEL_PATH = "/models/org/model"

# Small in-memory files whose first bytes sniff as their media type.
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + b"0" * 8
WAV = b"RIFF" + (36).to_bytes(4, "little") + b"WAVE" + b"fmt " + b"\x10\x00\x00\x00\x01\x00\x01\x00" + b"0" * 8
FLAC = b"fLaC" + b"\x00\x00\x00\x22" + b"0" * 16
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00\x00\x00\x00mp42isom" + b"0" * 8


def b64(data: bytes) -> str:
    """The base64 text a binary input travels as inside a JSON body."""
    return base64.b64encode(data).decode("ascii")


# A base64 PNG mask / depth map as the service sends them (a 4 × 4 greyscale image).
MASK_PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAAAAACMmsGiAAAAEElEQVR4nGP4/5+BgQGVAABXvAf5PY5X+QAAAABJRU5ErkJggg=="
FLAC_B64 = "ZkxhQwAAACIQABAAAAAOAB+gA+gA8AAAPoA="


@dataclass(frozen=True)
class TaskExample:
    """A typed method call, the request it must send, and the response served back."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    expected_path: str
    expected_body: Any
    expected_content_type: str
    response: Any
    response_content_type: str = "application/json"
    notes: str = field(default="", compare=False)


CHAT_RESPONSE: dict[str, Any] = {
    "id": "chatcmpl-8d1f2e",
    "object": "chat.completion",
    "created": 1717430400,
    "model": "org/model",
    "system_fingerprint": "3.0.1-sha-bb9095a",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Deep learning is a branch of machine learning based on neural networks with many layers.",
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 14, "completion_tokens": 18, "total_tokens": 32},
}

EXAMPLES: dict[str, TaskExample] = {
    "audio-classification": TaskExample(
        args=(WAV,),
        kwargs={"model": MODEL, "top_k": 2},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(WAV), "parameters": {"top_k": 2}},
        expected_content_type="application/json",
        response=[{"label": "dog_bark", "score": 0.9132}, {"label": "siren", "score": 0.0421}],
    ),
    "audio-to-audio": TaskExample(
        args=(WAV,),
        kwargs={"model": MODEL},
        expected_path=MODEL_PATH,
        expected_body=WAV,
        expected_content_type="audio/wav",
        response=[{"label": "label_0", "content-type": "audio/flac", "blob": FLAC_B64}],
        notes="no parameters: the audio travels as the raw body with its sniffed type",
    ),
    "automatic-speech-recognition": TaskExample(
        args=(WAV,),
        kwargs={"model": MODEL, "return_timestamps": True, "generation_parameters": {"max_new_tokens": 128}},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": b64(WAV),
            "parameters": {"return_timestamps": True, "generation_parameters": {"max_new_tokens": 128}},
        },
        expected_content_type="application/json",
        response={
            "text": "Going along slushy country roads.",
            "chunks": [
                {"text": "Going along", "timestamp": [0.0, 1.2]},
                {"text": "slushy country roads.", "timestamp": [1.2, 3.44]},
            ],
        },
    ),
    "chat-completion": TaskExample(
        args=([{"role": "user", "content": "What is deep learning?"}],),
        kwargs={"model": MODEL, "max_tokens": 64, "temperature": 0.2},
        expected_path=MODEL_PATH + "/v1/chat/completions",
        expected_body={
            "model": MODEL,
            "messages": [{"role": "user", "content": "What is deep learning?"}],
            "max_tokens": 64,
            "temperature": 0.2,
        },
        expected_content_type="application/json",
        response=CHAT_RESPONSE,
    ),
    "depth-estimation": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL},
        expected_path=MODEL_PATH,
        expected_body=PNG,
        expected_content_type="image/png",
        response={"predicted_depth": [[2.5, 2.25], [1.75, 1.5]], "depth": MASK_PNG_B64},
        notes="no parameters: the image travels as the raw body with its sniffed type",
    ),
    "document-question-answering": TaskExample(
        args=(),
        kwargs={"model": MODEL, "image": PNG, "question": "What is the invoice total?", "top_k": 1},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": {"image": b64(PNG), "question": "What is the invoice total?"},
            "parameters": {"top_k": 1},
        },
        expected_content_type="application/json",
        response=[{"answer": "$1,250.00", "score": 0.9871, "start": 42, "end": 42}],
    ),
    "feature-extraction": TaskExample(
        args=("Today is a sunny day and I will get some ice cream.",),
        kwargs={"model": MODEL, "normalize": True, "truncate": True},
        expected_path=MODEL_PATH + "/pipeline/feature-extraction",
        expected_body={
            "inputs": "Today is a sunny day and I will get some ice cream.",
            "normalize": True,
            "truncate": True,
        },
        expected_content_type="application/json",
        response=[[0.0213, -0.0478, 0.0361, 0.0097, -0.0152, 0.0634, -0.0029, 0.0418]],
    ),
    "fill-mask": TaskExample(
        args=("The capital of France is [MASK].",),
        kwargs={"model": MODEL, "top_k": 2},
        expected_path=MODEL_PATH,
        expected_body={"inputs": "The capital of France is [MASK].", "parameters": {"top_k": 2}},
        expected_content_type="application/json",
        response=[
            {"sequence": "the capital of france is paris.", "score": 0.9167, "token": 3000, "token_str": "paris"},
            {"sequence": "the capital of france is lyon.", "score": 0.0182, "token": 10241, "token_str": "lyon"},
        ],
    ),
    "image-classification": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "top_k": 2, "function_to_apply": "softmax"},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(PNG), "parameters": {"top_k": 2, "function_to_apply": "softmax"}},
        expected_content_type="application/json",
        response=[{"label": "tabby, tabby cat", "score": 0.8821}, {"label": "Egyptian cat", "score": 0.0713}],
    ),
    "image-segmentation": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "threshold": 0.9, "subtask": "panoptic"},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(PNG), "parameters": {"threshold": 0.9, "subtask": "panoptic"}},
        expected_content_type="application/json",
        response=[{"label": "cat", "score": 0.9973, "mask": MASK_PNG_B64}],
    ),
    "image-text-to-image": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "prompt": "Turn it into a watercolor painting", "num_inference_steps": 30},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": b64(PNG),
            "parameters": {"prompt": "Turn it into a watercolor painting", "num_inference_steps": 30},
        },
        expected_content_type="application/json",
        response=PNG,
        response_content_type="image/png",
    ),
    "image-text-to-video": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "prompt": "The cat slowly turns its head", "num_frames": 16},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(PNG), "parameters": {"prompt": "The cat slowly turns its head", "num_frames": 16}},
        expected_content_type="application/json",
        response=MP4,
        response_content_type="video/mp4",
    ),
    "image-to-image": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "prompt": "a photo in winter", "target_size": {"width": 512, "height": 384}},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": b64(PNG),
            "parameters": {"prompt": "a photo in winter", "target_size": {"width": 512, "height": 384}},
        },
        expected_content_type="application/json",
        response=JPEG,
        response_content_type="image/jpeg",
    ),
    "image-to-text": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "max_new_tokens": 30},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(PNG), "parameters": {"max_new_tokens": 30}},
        expected_content_type="application/json",
        response={"generated_text": "a brown dog running on a sandy beach"},
    ),
    "image-to-video": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "num_frames": 24, "seed": 7},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(PNG), "parameters": {"num_frames": 24, "seed": 7}},
        expected_content_type="application/json",
        response=MP4,
        response_content_type="video/mp4",
    ),
    "object-detection": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "threshold": 0.5},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(PNG), "parameters": {"threshold": 0.5}},
        expected_content_type="application/json",
        response=[
            {"label": "cat", "score": 0.9982, "box": {"xmin": 12, "ymin": 52, "xmax": 314, "ymax": 470}},
            {"label": "remote", "score": 0.9567, "box": {"xmin": 40, "ymin": 70, "xmax": 175, "ymax": 117}},
        ],
    ),
    "question-answering": TaskExample(
        args=(),
        kwargs={
            "model": MODEL,
            "question": "Where do I live?",
            "context": "My name is Wolfgang and I live in London.",
            "top_k": 2,
        },
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": {"question": "Where do I live?", "context": "My name is Wolfgang and I live in London."},
            "parameters": {"top_k": 2},
        },
        expected_content_type="application/json",
        response=[
            {"answer": "London", "score": 0.9843, "start": 34, "end": 40},
            {"answer": "in London", "score": 0.0121, "start": 31, "end": 40},
        ],
    ),
    "sentence-similarity": TaskExample(
        args=(),
        kwargs={
            "model": MODEL,
            "source_sentence": "That is a happy person",
            "sentences": ["That is a happy dog", "Today is a sunny day"],
        },
        expected_path=MODEL_PATH + "/pipeline/sentence-similarity",
        expected_body={
            "inputs": {
                "source_sentence": "That is a happy person",
                "sentences": ["That is a happy dog", "Today is a sunny day"],
            }
        },
        expected_content_type="application/json",
        response=[0.6945773363113403, 0.25687605142593384],
        notes="the task has no parameters",
    ),
    "summarization": TaskExample(
        args=("The city council met on Tuesday and approved a new cycling network for the city centre.",),
        kwargs={"model": MODEL, "truncation": "longest_first", "generate_parameters": {"max_length": 60}},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": "The city council met on Tuesday and approved a new cycling network for the city centre.",
            "parameters": {"truncation": "longest_first", "generate_parameters": {"max_length": 60}},
        },
        expected_content_type="application/json",
        response={"summary_text": "The city council approved a new cycling network."},
    ),
    "table-question-answering": TaskExample(
        args=(),
        kwargs={
            "model": MODEL,
            "query": "How many stars does the transformers repository have?",
            "table": {"Repository": ["Transformers", "Datasets"], "Stars": ["36542", "4512"]},
            "sequential": False,
        },
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": {
                "query": "How many stars does the transformers repository have?",
                "table": {"Repository": ["Transformers", "Datasets"], "Stars": ["36542", "4512"]},
            },
            "parameters": {"sequential": False},
        },
        expected_content_type="application/json",
        response=[{"answer": "AVERAGE > 36542", "coordinates": [[0, 1]], "cells": ["36542"], "aggregator": "AVERAGE"}],
    ),
    "tabular-classification": TaskExample(
        args=({"fixed_acidity": [7.4, 7.8], "alcohol": [9.4, 9.8], "colour": ["red", "white"]},),
        kwargs={"model": MODEL},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": {"data": {"fixed_acidity": [7.4, 7.8], "alcohol": [9.4, 9.8], "colour": ["red", "white"]}}
        },
        expected_content_type="application/json",
        response=["good", "average"],
        notes="the task has no parameters",
    ),
    "tabular-regression": TaskExample(
        args=({"Height": [11.52, 12.48], "Length1": [23.2, 24], "Species": ["Bream", "Bream"]},),
        kwargs={"model": MODEL},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": {"data": {"Height": [11.52, 12.48], "Length1": [23.2, 24], "Species": ["Bream", "Bream"]}}
        },
        expected_content_type="application/json",
        response=[242.5, 290.25],
        notes="the task has no parameters",
    ),
    "text-classification": TaskExample(
        args=("I like you. I love you",),
        kwargs={"model": MODEL, "top_k": 2},
        expected_path=MODEL_PATH,
        expected_body={"inputs": "I like you. I love you", "parameters": {"top_k": 2}},
        expected_content_type="application/json",
        response=[{"label": "POSITIVE", "score": 0.9998656511306763}, {"label": "NEGATIVE", "score": 0.00013436}],
    ),
    "text-generation": TaskExample(
        args=("My name is Clara and I am",),
        kwargs={"model": MODEL, "max_new_tokens": 20, "details": True},
        expected_path=MODEL_PATH,
        expected_body={"inputs": "My name is Clara and I am", "parameters": {"max_new_tokens": 20, "details": True}},
        expected_content_type="application/json",
        response={
            "generated_text": " a software engineer living in Paris.",
            "details": {
                "finish_reason": "eos_token",
                "generated_tokens": 8,
                "seed": None,
                "prefill": [],
                "tokens": [
                    {"id": 264, "text": " a", "logprob": -0.71, "special": False},
                    {"id": 3930, "text": " software", "logprob": -1.52, "special": False},
                ],
            },
        },
    ),
    "text-to-audio": TaskExample(
        args=("liquid drum and bass, atmospheric synths, airy sounds",),
        kwargs={"model": MODEL, "generation_parameters": {"do_sample": True, "temperature": 0.9}},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": "liquid drum and bass, atmospheric synths, airy sounds",
            "parameters": {"generation_parameters": {"do_sample": True, "temperature": 0.9}},
        },
        expected_content_type="application/json",
        response=WAV,
        response_content_type="audio/wav",
    ),
    "text-to-image": TaskExample(
        args=("An astronaut riding a horse on the moon.",),
        kwargs={"model": MODEL, "width": 512, "height": 512, "seed": 42},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": "An astronaut riding a horse on the moon.",
            "parameters": {"width": 512, "height": 512, "seed": 42},
        },
        expected_content_type="application/json",
        response=PNG,
        response_content_type="image/png",
    ),
    "text-to-speech": TaskExample(
        args=("Hello, my dog is cute.",),
        kwargs={"model": MODEL, "generation_parameters": {"max_new_tokens": 256}},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": "Hello, my dog is cute.",
            "parameters": {"generation_parameters": {"max_new_tokens": 256}},
        },
        expected_content_type="application/json",
        response=FLAC,
        response_content_type="audio/flac",
    ),
    "text-to-video": TaskExample(
        args=("A panda eating bamboo in the rain",),
        kwargs={"model": MODEL, "num_frames": 16, "negative_prompt": ["blurry", "low quality"]},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": "A panda eating bamboo in the rain",
            "parameters": {"num_frames": 16, "negative_prompt": ["blurry", "low quality"]},
        },
        expected_content_type="application/json",
        response=MP4,
        response_content_type="video/mp4",
    ),
    "token-classification": TaskExample(
        args=("My name is Sarah Jessica Parker but you can call me Jessica",),
        kwargs={"model": MODEL, "aggregation_strategy": "simple"},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": "My name is Sarah Jessica Parker but you can call me Jessica",
            "parameters": {"aggregation_strategy": "simple"},
        },
        expected_content_type="application/json",
        response=[
            {"entity_group": "PER", "score": 0.9991, "word": "Sarah Jessica Parker", "start": 11, "end": 31},
            {"entity_group": "PER", "score": 0.9979, "word": "Jessica", "start": 52, "end": 59},
        ],
    ),
    "translation": TaskExample(
        args=("The train to Lyon leaves at eight from platform three.",),
        kwargs={"model": MODEL, "src_lang": "en_XX", "tgt_lang": "fr_XX"},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": "The train to Lyon leaves at eight from platform three.",
            "parameters": {"src_lang": "en_XX", "tgt_lang": "fr_XX"},
        },
        expected_content_type="application/json",
        response={"translation_text": "Le train pour Lyon part à huit heures du quai numéro trois."},
    ),
    "video-classification": TaskExample(
        args=(MP4,),
        kwargs={"model": MODEL, "num_frames": 16, "top_k": 2},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(MP4), "parameters": {"num_frames": 16, "top_k": 2}},
        expected_content_type="application/json",
        response=[{"label": "playing guitar", "score": 0.8312}, {"label": "playing ukulele", "score": 0.1103}],
    ),
    "visual-question-answering": TaskExample(
        args=(),
        kwargs={"model": MODEL, "image": PNG, "question": "What animal is in the picture?", "top_k": 1},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": {"image": b64(PNG), "question": "What animal is in the picture?"},
            "parameters": {"top_k": 1},
        },
        expected_content_type="application/json",
        response=[{"answer": "cat", "score": 0.9462}],
    ),
    "zero-shot-classification": TaskExample(
        args=("The new phone's battery lasts two full days and it charges in half an hour.",),
        kwargs={"model": MODEL, "candidate_labels": ["technology", "travel", "politics"], "multi_label": False},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": "The new phone's battery lasts two full days and it charges in half an hour.",
            "parameters": {"candidate_labels": ["technology", "travel", "politics"], "multi_label": False},
        },
        expected_content_type="application/json",
        response=[
            {"label": "technology", "score": 0.9712834358215332},
            {"label": "travel", "score": 0.020561836659908295},
            {"label": "politics", "score": 0.008154727518558502},
        ],
    ),
    "zero-shot-image-classification": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "candidate_labels": ["cat", "dog"], "hypothesis_template": "a photo of a {}."},
        expected_path=MODEL_PATH,
        expected_body={
            "inputs": b64(PNG),
            "parameters": {"candidate_labels": ["cat", "dog"], "hypothesis_template": "a photo of a {}."},
        },
        expected_content_type="application/json",
        response=[{"label": "cat", "score": 0.9851}, {"label": "dog", "score": 0.0149}],
    ),
    "zero-shot-object-detection": TaskExample(
        args=(PNG,),
        kwargs={"model": MODEL, "candidate_labels": ["cat", "remote control"]},
        expected_path=MODEL_PATH,
        expected_body={"inputs": b64(PNG), "parameters": {"candidate_labels": ["cat", "remote control"]}},
        expected_content_type="application/json",
        response=[
            {"label": "cat", "score": 0.8971, "box": {"xmin": 12, "ymin": 52, "xmax": 314, "ymax": 470}},
            {"label": "remote control", "score": 0.4322, "box": {"xmin": 40, "ymin": 70, "xmax": 175, "ymax": 117}},
        ],
    ),
}


def method_name(task: str) -> str:
    """The typed method of a task: its id with underscores."""
    return task.replace("-", "_")
