<?php

declare(strict_types=1);

namespace Modfilter;

/** One rule that matched, and where: [start, end) in bytes of the post, and in code points. */
final class Hit
{
    /**
     * @param list<string> $evasion evasion techniques seen inside the span ("leet", "invisible", ...)
     */
    public function __construct(
        public readonly string $rule,
        public readonly string $category,
        public readonly string $severity,
        public readonly float $score,
        /** Byte offsets into the post as passed (use substr()). */
        public readonly int $start,
        public readonly int $end,
        /** Code point offsets (use mb_substr($text, $startChar, $endChar - $startChar, 'UTF-8')). */
        public readonly int $startChar,
        public readonly int $endChar,
        public readonly array $evasion,
        /** The matched bytes: substr($text, $start, $end - $start). */
        public readonly string $text,
        /** In text the post quotes ("> " lines, [quote], <blockquote>): see [policy] quoted_weight. */
        public readonly bool $quoted = false,
    ) {
    }

    /** @return array<string,mixed> */
    public function toArray(): array
    {
        return get_object_vars($this);
    }
}
