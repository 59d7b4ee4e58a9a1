# frozen_string_literal: true

module Modfilter
  # Base class of every error the binding raises. +status+ is the library's MF_E_* code (an
  # Integer, nil for LibraryNotFound); the message is mf_last_error() of the failing call.
  class Error < StandardError
    attr_reader :status
    # Position of the refused post in Engine#scan_many's input, nil elsewhere.
    attr_accessor :index

    def initialize(message = nil, status = nil)
      super(message)
      @status = status || self.class.const_get(:STATUS)
    end
    STATUS = nil
  end

  # libmodfilter could not be found or loaded: the message names every place tried.
  class LibraryNotFound < Error; end

  class InvalidArgumentError < Error; STATUS = -1; end   # MF_E_INVALID_ARG
  class OutOfMemoryError < Error; STATUS = -2; end       # MF_E_NOMEM

  # MF_E_RULES: a rule pack has a mistake. +file+ and +line+ point at the first one
  # (parsed from the library's "file:line: message"); nil when the message carries none.
  class RulesError < Error
    STATUS = -3
    attr_reader :file, :line

    def initialize(message = nil, status = nil)
      super
      if message && (m = /\A(.+?):(\d+): /.match(message))
        @file = m[1]
        @line = m[2].to_i
      end
    end
  end

  class ModfilterIOError < Error; STATUS = -4; end       # MF_E_IO: a rule pack, database or state file unreadable
  RulesIOError = ModfilterIOError                        # (its older name: the same class)
  class VersionError < Error; STATUS = -5; end           # MF_E_VERSION
  class BadDatabaseError < Error; STATUS = -6; end       # MF_E_BAD_DATABASE
  class DatabaseMismatchError < Error; STATUS = -7; end  # MF_E_DB_MISMATCH
  class PostTooLargeError < Error; STATUS = -8; end      # MF_E_TOO_LARGE
  class BusyError < Error; STATUS = -9; end              # MF_E_BUSY
  class NotFoundError < Error; STATUS = -10; end         # MF_E_NOT_FOUND
  class StateCorruptError < Error; STATUS = -11; end     # MF_E_STATE_CORRUPT
  class StateVersionError < Error; STATUS = -12; end     # MF_E_STATE_VERSION
  class InternalError < Error; STATUS = -99; end         # MF_E_INTERNAL

  # Status code => exception class.
  ERRORS = [InvalidArgumentError, OutOfMemoryError, RulesError, ModfilterIOError, VersionError,
            BadDatabaseError, DatabaseMismatchError, PostTooLargeError, BusyError, NotFoundError,
            StateCorruptError, StateVersionError, InternalError].to_h { |c| [c::STATUS, c] }.freeze
end
