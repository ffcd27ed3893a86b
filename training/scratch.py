"""Base models built from a config (`--init scratch --config tiny|small`), sized for CPU training."""

from __future__ import annotations

from typing import Any

# decoder-only (Llama-style) sizes; `small` is the default that trains on 2 CPU cores in ~30 minutes
CAUSAL_SIZES = {
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4),
    "small": dict(hidden_size=192, intermediate_size=512, num_hidden_layers=3, num_attention_heads=4),
    "base": dict(hidden_size=512, intermediate_size=1408, num_hidden_layers=8, num_attention_heads=8),
}
SEQ2SEQ_SIZES = {
    "tiny": dict(d_model=64, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4, d_kv=16),
    "small": dict(d_model=192, d_ff=512, num_layers=3, num_decoder_layers=2, num_heads=4, d_kv=48),
    "base": dict(d_model=512, d_ff=1408, num_layers=6, num_decoder_layers=6, num_heads=8, d_kv=64),
}
VOCAB_SIZES = {"tiny": 1024, "small": 2048, "base": 8192}


def scratch_model(size: str, arch: str, tokenizer: Any, max_positions: int = 1024):
    """A randomly initialised model whose special-token ids match `tokenizer`."""
    from transformers import LlamaConfig, LlamaForCausalLM, T5Config, T5ForConditionalGeneration

    # Built as plain dicts: transformers' config signatures are wider than their type stubs.
    common: dict[str, Any] = dict(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id
    )
    if arch == "causal":
        causal: dict[str, Any] = dict(
            max_position_embeddings=max_positions,
            bos_token_id=tokenizer.bos_token_id,
            tie_word_embeddings=True,
            **CAUSAL_SIZES[size],
        )
        return LlamaForCausalLM(LlamaConfig(**common, **causal))
    if arch == "seq2seq":
        seq2seq: dict[str, Any] = dict(
            decoder_start_token_id=tokenizer.pad_token_id,
            feed_forward_proj="gated-gelu",
            tie_word_embeddings=False,
            **SEQ2SEQ_SIZES[size],
        )
        return T5ForConditionalGeneration(T5Config(**common, **seq2seq))
    raise ValueError(f"unknown architecture {arch!r} (causal | seq2seq)")
