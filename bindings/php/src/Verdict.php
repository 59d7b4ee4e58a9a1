<?php

declare(strict_types=1);

namespace Modfilter;

/** The result of scanning one post: what to do with it, and why. A plain PHP value. */
final class Verdict
{
    public const ALLOW = 'ALLOW';
    public const FLAG = 'FLAG';
    public const HOLD = 'HOLD';
    public const REJECT = 'REJECT';

    /**
     * @param array<string,float> $categories every category with a non-zero score
     * @param list<string> $routes escalation routes ("legal", "hr", "pr", "support"), sorted
     * @param list<Hit> $hits in order of start offset
     * @param list<string> $evasion evasion techniques seen in the hits
     */
    public function __construct(
        /** "ALLOW", "FLAG", "HOLD" or "REJECT". */
        public readonly string $action,
        public readonly array $categories = [],
        public readonly array $routes = [],
        public readonly array $hits = [],
        public readonly array $evasion = [],
        /** Number of invalid UTF-8 sequences in the post (replaced by U+FFFD for matching). */
        public readonly int $invalidUtf8 = 0,
        /** More hits than the engine's max_hits: only the first are listed. */
        public readonly bool $hitsTruncated = false,
        /** With 'censor' => true: the post with every character of every hit replaced by '*'. */
        public readonly ?string $censored = null,
        /** The 'id' given with the post, or null. */
        public readonly mixed $id = null,
    ) {
    }

    /** The action as MF_ACTION_* (0 allow .. 3 reject), for comparisons by severity. */
    public function severity(): int
    {
        return array_search($this->action, [self::ALLOW, self::FLAG, self::HOLD, self::REJECT], true);
    }

    /** True unless the action is ALLOW. */
    public function flagged(): bool
    {
        return $this->action !== self::ALLOW;
    }

    /** A JSON-ready array shaped like the CLI's output lines (hits with byte and code point offsets). */
    public function toArray(): array
    {
        $out = [];
        if ($this->id !== null) {
            $out['id'] = $this->id;
        }
        $out += [
            'action' => $this->action,
            'categories' => $this->categories,
            'routes' => $this->routes,
            'hits' => array_map(fn (Hit $h) => $h->toArray(), $this->hits),
            'evasion' => $this->evasion,
            'invalid_utf8' => $this->invalidUtf8,
            'hits_truncated' => $this->hitsTruncated,
        ];
        if ($this->censored !== null) {
            $out['censored'] = $this->censored;
        }
        return $out;
    }
}
