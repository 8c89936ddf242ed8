"""Each text tokenized once per process and tokenizer: the length analysis, the splits, and every task of a tasks
run on the same model (in the foreground, one process) share the token ids instead of tokenizing again."""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

MAX_TOKENS = 5_000_000  # about 200 MB of Python ids; past it the memo starts again with the texts at hand

Tokens = tuple[list[int], list[int]]  # a text's ids with its special tokens, and which of them are special


class TokenMemo:
    """Full token ids (no truncation) per text, per tokenizer (told apart by its vocabulary and rules, not its name:
    a folder can hold another model later)."""

    def __init__(self, max_tokens: int = MAX_TOKENS) -> None:
        self.max_tokens = max_tokens
        self.tokenized = 0  # texts that went through a tokenizer (the rest came from the memo)
        self._texts: dict[str, dict[str, Tokens]] = {}
        self._tokens = 0
        self._keys: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def full(self, tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> tuple[list[list[int]], list[list[int]]]:
        """Every token of each text with its special tokens, and the special-tokens masks."""
        memo = self._texts.setdefault(self._key(tokenizer), {})
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        fresh: dict[str, Tokens] = {}
        if missing:
            found = tokenizer(missing, truncation=False, return_special_tokens_mask=True)
            fresh = dict(zip(missing, zip(found["input_ids"], found["special_tokens_mask"], strict=True),
                             strict=True))
            self.tokenized += len(missing)
            self._keep(memo, fresh)
        rows = [memo.get(t) or fresh[t] for t in texts]
        return [list(ids) for ids, _ in rows], [list(mask) for _, mask in rows]

    def _keep(self, memo: dict[str, Tokens], fresh: dict[str, Tokens]) -> None:
        size = sum(len(ids) for ids, _ in fresh.values())
        if self._tokens + size > self.max_tokens:  # bounded: forget the older texts
            for texts in self._texts.values():
                texts.clear()
            self._tokens = 0
        if size <= self.max_tokens:
            memo.update(fresh)
            self._tokens += size

    def _key(self, tokenizer: Any) -> str:
        try:
            return self._keys[tokenizer]
        except (KeyError, TypeError):
            pass
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is not None:  # a fast tokenizer: its whole definition (vocabulary, normalizer, template)
            identity = backend.to_str()
        else:
            identity = repr((type(tokenizer).__name__, getattr(tokenizer, "name_or_path", ""), len(tokenizer),
                             sorted(tokenizer.get_vocab().items())))
        key = hashlib.sha256(identity.encode("utf-8")).hexdigest()
        with contextlib.suppress(TypeError):  # not weak-referenceable: fingerprinted again next time
            self._keys[tokenizer] = key
        return key


MEMO = TokenMemo()
