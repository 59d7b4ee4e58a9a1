<?php

declare(strict_types=1);

namespace Modfilter;

/**
 * Every error the binding raises. A failed library call raises the subclass for its status code
 * (getStatus() is the MF_E_* value, getMessage() the library's mf_last_error() text); branch on
 * the class or the status, never on the message.
 */
class ModfilterException extends \RuntimeException
{
    /** @var array<int, class-string<ModfilterException>> */
    private const BY_STATUS = [
        -1 => InvalidArgumentException::class,
        -2 => OutOfMemoryException::class,
        -3 => RulesException::class,
        -4 => IoException::class,
        -5 => VersionException::class,
        -6 => BadDatabaseException::class,
        -7 => DatabaseMismatchException::class,
        -8 => PostTooLargeException::class,
        -9 => BusyException::class,
        -10 => NotFoundException::class,
        -11 => StateCorruptException::class,
        -12 => StateVersionException::class,
        -99 => InternalException::class,
    ];

    /** Position of the post in a scanMany() call, or null. */
    private ?int $index = null;

    public function __construct(string $message, private int $status = 0, ?\Throwable $previous = null)
    {
        parent::__construct($message, $status, $previous);
    }

    /** The MF_E_* status code (0 for errors that are not the library's: a missing library, FFI off). */
    public function getStatus(): int
    {
        return $this->status;
    }

    public function getIndex(): ?int
    {
        return $this->index;
    }

    /** @internal */
    public function withIndex(int $index): static
    {
        $this->index = $index;
        return $this;
    }

    /** The exception for a status code, with a message. */
    public static function fromStatus(int $status, string $message): self
    {
        $class = self::BY_STATUS[$status] ?? self::class;
        return new $class($message, $status);
    }
}

/** MF_E_INVALID_ARG, or an argument the binding refuses before calling the library (a NULL text). */
class InvalidArgumentException extends ModfilterException {}
/** MF_E_NOMEM */
class OutOfMemoryException extends ModfilterException {}
/** MF_E_IO: a rules path or file could not be read or written. */
class IoException extends ModfilterException {}
/** MF_E_VERSION */
class VersionException extends ModfilterException {}
/** MF_E_BAD_DATABASE */
class BadDatabaseException extends ModfilterException {}
/** MF_E_DB_MISMATCH */
class DatabaseMismatchException extends ModfilterException {}
/** MF_E_TOO_LARGE: the post is larger than the engine's max_post_bytes. */
class PostTooLargeException extends ModfilterException {}
/** MF_E_BUSY */
class BusyException extends ModfilterException {}
/** MF_E_NOT_FOUND */
class NotFoundException extends ModfilterException {}
/** MF_E_STATE_CORRUPT */
class StateCorruptException extends ModfilterException {}
/** MF_E_STATE_VERSION */
class StateVersionException extends ModfilterException {}
/** MF_E_INTERNAL: a bug in modfilter. */
class InternalException extends ModfilterException {}
/** libmodfilter or the generated declarations could not be found or loaded. */
class LibraryException extends ModfilterException {}
/** The FFI extension is missing or disabled for this PHP SAPI; the message says what to set. */
class FfiUnavailableException extends ModfilterException {}

/**
 * MF_E_RULES: a rule pack has a mistake. getRuleFile() and getRuleLine() say where (the first
 * mistake; the message says how many more). getFile()/getLine() stay PHP's own (where it was thrown).
 */
class RulesException extends ModfilterException
{
    private ?string $ruleFile = null;
    private ?int $ruleLine = null;

    public function __construct(string $message, int $status = -3, ?\Throwable $previous = null)
    {
        parent::__construct($message, $status, $previous);
        if (preg_match('/^(.+?):(\d+): /', $message, $m)) {
            $this->ruleFile = $m[1];
            $this->ruleLine = (int)$m[2];
        }
    }

    public function getRuleFile(): ?string
    {
        return $this->ruleFile;
    }

    public function getRuleLine(): ?int
    {
        return $this->ruleLine;
    }
}
