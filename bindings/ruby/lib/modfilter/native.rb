# frozen_string_literal: true

require "ffi"

module Modfilter
  # Loading libmodfilter and declaring its C functions (private). Nothing is loaded until the first
  # engine is built, so `require "modfilter"` never fails; a missing library raises LibraryNotFound.
  module Native
    extend FFI::Library

    ENV_VAR = "MODFILTER_LIBRARY"
    # Major version of the C ABI this binding understands (the SONAME carries it).
    ABI_MAJOR = 0
    # The oldest library version (MF_VERSION_NUMBER) this binding was written against.
    ABI_VERSION_MIN = 100 # 0.1.0

    ENGINE_OPTIONS_VERSION = 1
    POST_VERSION = 2
    HIT_VERSION = 2
    HIT_QUOTED = 0x1
    SCAN_CENSOR = 0x1
    VERDICT_INVALID_UTF8 = 0x1
    VERDICT_HITS_TRUNCATED = 0x2

    # mf_engine_options (version 1).
    class EngineOptions < FFI::Struct
      layout :version, :uint32, :rules_path, :pointer, :rules_text, :pointer, :rules_text_len, :size_t,
             :flag_threshold, :double, :hold_threshold, :double, :reject_threshold, :double,
             :max_post_bytes, :uint64, :max_hits, :uint32
    end

    # mf_post (version 2). Used to check the packed layout below, and for its size.
    class Post < FFI::Struct
      layout :version, :uint32, :text, :pointer, :len, :size_t, :author_role, :int32, :flags, :uint32,
             :id, :pointer, :id_len, :size_t, :author_id, :pointer, :author_id_len, :size_t,
             :channel, :pointer, :channel_len, :size_t, :ts_ms, :int64, :author_age_days, :int32,
             :edit, :uint32
    end

    # mf_hit (version 2: flags after evasion, in what was version 1's tail padding).
    class Hit < FFI::Struct
      layout :version, :uint32, :rule, :pointer, :category, :pointer, :severity, :int32, :score, :double,
             :start, :size_t, :end, :size_t, :evasion, :uint32, :flags, :uint32
    end

    # The structs as Array#pack formats (x86-64 / aarch64 LP64 layout; checked against FFI's own
    # layout when the library is loaded): one pack or unpack replaces a dozen field accesses.
    POST_PACK = "Lx4QQlLQQQQQQqlL"
    HIT_UNPACK = "Lx4QQlx4dQQLL"

    # name => [argument types, return type]
    FUNCTIONS = {
      mf_version: [[], :string],
      mf_version_number: [[], :uint32],
      mf_status_str: [[:int32], :string],
      mf_last_error: [[], :string],
      mf_engine_options_init: [[:pointer, :uint32], :int32],
      mf_engine_create: [[:pointer, :pointer], :int32],
      mf_engine_destroy: [[:pointer], :void],
      mf_engine_rule_count: [[:pointer], :size_t],
      mf_scanner_create: [[:pointer, :pointer], :int32],
      mf_scanner_destroy: [[:pointer], :void],
      mf_verdict_create: [[:pointer], :int32],
      mf_verdict_destroy: [[:pointer], :void],
      mf_scan_text: [[:pointer, :pointer, :buffer_in, :size_t, :int32], :int32],
      mf_scan: [[:pointer, :pointer, :buffer_in], :int32],
      mf_scan_batch: [[:pointer, :pointer, :buffer_in, :size_t, :pointer], :int32],
      mf_verdict_action: [[:pointer], :int32],
      mf_verdict_flags: [[:pointer], :uint32],
      mf_verdict_evasion: [[:pointer], :uint32],
      mf_verdict_invalid_utf8_count: [[:pointer], :size_t],
      mf_verdict_category_count: [[:pointer], :size_t],
      mf_verdict_category: [[:pointer, :size_t, :pointer, :pointer, :pointer, :pointer], :int32],
      mf_verdict_hit_count: [[:pointer], :size_t],
      mf_verdict_hit: [[:pointer, :size_t, :pointer], :int32],
      mf_verdict_censored: [[:pointer, :pointer], :pointer],
      mf_evasion_name: [[:uint32], :string],
      mf_rules_check: [[:pointer, :string, :pointer, :pointer], :int32]
    }.freeze

    # Functions a library of an older 0.x may lack: attached when present, and the binding does
    # without them otherwise (Native.summaries? says which).
    OPTIONAL_FUNCTIONS = {
      # action, flags, evasion and counts of many verdicts in one call (symbol version MODFILTER_0_SUMMARY)
      mf_verdict_summaries: [[:pointer, :size_t, :pointer], :int32]
    }.freeze

    # mf_verdict_summary (version 1): 40 bytes, read as five 64-bit words (see Engine#scan_many).
    SUMMARY_VERSION = 1
    SUMMARY_SIZE = 40

    @loaded = nil
    @summaries = false
    @mutex = Mutex.new

    class << self
      # The path (or SONAME) the library was loaded from.
      attr_reader :loaded

      # True when the loaded library has mf_verdict_summaries (0.x libraries before it do not).
      def summaries?
        @summaries
      end

      # Where to look, in order: $MODFILTER_LIBRARY alone when set (a typo is an error, not a
      # silent fallback), then the installed SONAME through the dynamic loader's own search, then
      # the usual install prefixes, then the build tree of the checkout this file is in.
      def candidates
        env = ENV[ENV_VAR]
        return [env] if env && !env.empty?

        soname = "libmodfilter.so.#{ABI_MAJOR}"
        list = [soname]
        ["/usr/local/lib", "/usr/lib", "/usr/lib/#{RbConfig::CONFIG['arch'].sub(/-linux.*/, '')}-linux-gnu"].each do |dir|
          list << File.join(dir, soname)
        end
        root = File.expand_path("../../../..", __dir__) # bindings/ruby/lib/modfilter -> checkout
        %w[build build-asan].each do |b|
          path = File.join(root, b, "capi", "libmodfilter.so")
          list << path if File.exist?(path)
        end
        list
      end

      # Loads the library on first use (thread-safe); raises LibraryNotFound naming every place tried.
      def load!
        return if @loaded

        @mutex.synchronize do
          return if @loaded

          tried = []
          candidates.each do |cand|
            reason = probe(cand)
            if reason
              tried << "#{cand} (#{reason})"
              next
            end
            ffi_lib cand
            FUNCTIONS.each { |name, (args, ret)| attach_function name, args, ret }
            @summaries = attach_optional(:mf_verdict_summaries)
            check_layouts
            @loaded = cand
            return
          end
          raise LibraryNotFound, "libmodfilter not found. Build it (cmake -S . -B build && cmake --build build), " \
                                 "install it (cmake --install build), or set #{ENV_VAR} to the library's path. " \
                                 "Tried: #{tried.join('; ')}"
        end
      end

      private

      # Attaches an optional function; false when the library lacks it.
      def attach_optional(name)
        args, ret = OPTIONAL_FUNCTIONS.fetch(name)
        attach_function name, args, ret
        true
      rescue FFI::NotFoundError
        false
      end

      # nil when +cand+ is a usable libmodfilter, else why not.
      def probe(cand)
        lib = FFI::DynamicLibrary.open(cand, FFI::DynamicLibrary::RTLD_LAZY | FFI::DynamicLibrary::RTLD_LOCAL)
        missing = FUNCTIONS.keys.find { |name| lib.find_function(name.to_s).nil? }
        return "not a modfilter library: no #{missing}" if missing

        number = FFI::Function.new(:uint32, [], lib.find_function("mf_version_number")).call
        version = FFI::Function.new(:string, [], lib.find_function("mf_version")).call
        if number < ABI_VERSION_MIN || number / 10_000 != ABI_MAJOR
          return "version #{version}; this binding needs #{ABI_MAJOR}.x >= 0.1.0"
        end

        nil
      rescue LoadError => e
        e.message.sub(/\ACould not open library '[^']*': /, "")
      end

      def check_layouts
        offsets = Post.members.map { |m| Post.offset_of(m) }
        packed = [2, 0x1111, 3, 1, 1, 0x2222, 4, 0x3333, 5, 0x4444, 6, -7, 8, 1].pack(POST_PACK)
        ok = packed.bytesize == Post.size &&
             offsets == [0, 8, 16, 24, 28, 32, 40, 48, 56, 64, 72, 80, 88, 92] &&
             Hit.size == 64 && Hit.members.map { |m| Hit.offset_of(m) } == [0, 8, 16, 24, 32, 40, 48, 56, 60]
        raise LoadError, "modfilter: unexpected mf_post / mf_hit layout on this platform" unless ok
      end
    end
  end
end
