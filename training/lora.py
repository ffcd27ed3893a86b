"""LoRA target modules per architecture, and attaching/merging adapters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

_ATTN_MLP = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
TARGET_MODULES = {
    "llama": _ATTN_MLP,
    "mistral": _ATTN_MLP,
    "qwen2": _ATTN_MLP,
    "qwen3": _ATTN_MLP,
    "gemma": _ATTN_MLP,
    "gemma2": _ATTN_MLP,
    "deepseek_v2": _ATTN_MLP,
    "internlm2": ["wqkv", "wo", "w1", "w2", "w3"],
    "t5": ["q", "k", "v", "o", "wi", "wi_0", "wi_1", "wo"],
    "mt5": ["q", "k", "v", "o", "wi_0", "wi_1", "wo"],
    "umt5": ["q", "k", "v", "o", "wi_0", "wi_1", "wo"],
    "bart": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "gpt_neox": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
    "phi": ["q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"],
    "phi3": ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
}


def target_modules(model: Any, override: Sequence[str] | None = None) -> list[str]:
    """The table's modules for the model type, else every Linear layer name except the output head."""
    if override:
        return list(override)
    present = {name.rsplit(".", 1)[-1] for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    wanted = [t for t in TARGET_MODULES.get(getattr(model.config, "model_type", ""), []) if t in present]
    return wanted or sorted(present - {"lm_head", "embed_out", "output"})


def attach_lora(model: Any, r: int, alpha: int, dropout: float = 0.05, modules: Sequence[str] | None = None):
    from peft import LoraConfig, TaskType, get_peft_model

    task = TaskType.SEQ_2_SEQ_LM if model.config.is_encoder_decoder else TaskType.CAUSAL_LM
    cfg = LoraConfig(
        task_type=task, r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules(model, modules)
    )
    return get_peft_model(model, cfg)
