"""Text encoders for dense retrieval: any Hugging Face model by name or path (masked-mean pooling,
L2-normalised, as ReProver), and a small BERT-shaped encoder built from scratch, with a byte-level
BPE tokenizer trained on the corpus, for machines without pretrained weights."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "<mask>"]


@dataclass
class SmallEncoderConfig:
    """The documented from-scratch encoder: 2 layers, width 128, 8k byte-level BPE vocabulary (about
    1.4M parameters, most of them embeddings). Sized for CPU training in minutes and ~ms queries."""

    vocab_size: int = 8000
    hidden_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    intermediate_size: int = 512
    max_len: int = 128


def build_small_encoder(
    texts: Iterable[str], out_dir: Path | str, config: SmallEncoderConfig | None = None, seed: int = 0
) -> Path:
    """Train a byte-level BPE tokenizer on `texts`, initialise a BERT encoder, save both in HF format."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    cfg = config or SmallEncoderConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size,
        special_tokens=SPECIAL_TOKENS,
        min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        mask_token="<mask>",
        cls_token="<s>",
        sep_token="</s>",
        model_max_length=cfg.max_len,
    )
    fast.save_pretrained(out)
    torch.manual_seed(seed)
    bert = BertConfig(
        vocab_size=len(fast),
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        intermediate_size=cfg.intermediate_size,
        max_position_embeddings=max(cfg.max_len, 64),
        pad_token_id=fast.pad_token_id,
    )
    BertModel(bert).save_pretrained(out)
    (out / "proofsmith_encoder.json").write_text(json.dumps({"small_encoder_config": asdict(cfg)}, indent=1))
    return out


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class Encoder:
    """Wraps `AutoTokenizer` + `AutoModel`. `model_id` is what indexes record, so an index is only
    ever queried with embeddings from the model that built it."""

    def __init__(self, name_or_path: str | Path, device: str | None = None, max_len: int | None = None):
        from transformers import AutoModel, AutoTokenizer

        self.model_id = str(name_or_path)
        self.device = device or default_device()
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_id)
        self.model = AutoModel.from_pretrained(self.model_id).to(self.device)
        # encoder-decoder checkpoints (ByT5, as ReProver): only the encoder is used
        self._body = self.model.get_encoder() if getattr(self.model.config, "is_encoder_decoder", False) else self.model
        limit = getattr(self.tokenizer, "model_max_length", 512) or 512
        limit = min(limit, getattr(self.model.config, "max_position_embeddings", limit) or limit, 100_000)
        self.max_len = min(max_len or limit, limit)
        self.model.eval()

    @property
    def dim(self) -> int:
        return int(
            self.model.config.hidden_size if hasattr(self.model.config, "hidden_size") else self.model.config.d_model
        )

    def forward(self, texts: Sequence[str], queries: bool = False) -> torch.Tensor:
        """Embeddings with gradients: masked mean of the last hidden state, L2-normalised. Queries
        (proof states) are truncated from the left, so the goal, which comes last, is kept."""
        self.tokenizer.truncation_side = "left" if queries else "right"
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_len, return_tensors="pt"
        ).to(self.device)
        hidden = self._body(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)

    @torch.no_grad()
    def embed(
        self, texts: Sequence[str], batch_size: int = 64, queries: bool = False, progress: bool = False
    ) -> np.ndarray:
        """float32 [len(texts), dim]; batches are formed by length to waste little on padding."""
        was_training = self.model.training
        self.model.eval()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts: Iterable[int] = range(0, len(order), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch")
        for s in starts:
            idx = order[s : s + batch_size]
            out[idx] = self.forward([texts[i] for i in idx], queries=queries).float().cpu().numpy()
        if was_training:
            self.model.train()
        return out

    def save(self, out_dir: Path | str) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        return out
