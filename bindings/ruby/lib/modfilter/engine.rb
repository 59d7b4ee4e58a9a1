# frozen_string_literal: true

module Modfilter
  # Actions, in increasing order of severity (MF_ACTION_*).
  ACTIONS = %i[allow flag hold reject].freeze
  # Severities of rules and hits (MF_SEVERITY_*).
  SEVERITIES = { 1 => :low, 2 => :medium, 3 => :high, 4 => :critical }.freeze
  # Author roles (MF_ROLE_*): promise rules apply to staff, abuse and spam rules to everyone.
  ROLES = { member: 0, staff: 1, "member" => 0, "staff" => 1, 0 => 0, 1 => 1 }.freeze

  # One rule that matched. +start+ / +end+: half-open byte span in the scanned bytes;
  # +char_start+ / +char_end+: the same span in characters (code points), so that for a UTF-8 post
  # text[h.char_start...h.char_end] == h.text. +text+ is the matched slice, as UTF-8.
  # +quoted+: the span lies in text the post quotes ("> " lines, [quote], <blockquote>), and the rule
  # counted for the policy's quoted_weight of its score when none of its hits was outside a quote.
  Hit = Struct.new(:rule, :category, :severity, :score, :start, :end, :char_start, :char_end,
                   :evasion, :text, :quoted, keyword_init: true)

  # A category with a non-zero score: its summed score, the action its score alone reaches and its
  # escalation route ("legal", "hr", "pr", "support", or "" for none).
  Category = Struct.new(:name, :score, :action, :route, keyword_init: true)

  # The result of scanning one post: plain Ruby objects, independent of the engine.
  class Verdict
    EMPTY = [].freeze

    # :allow, :flag, :hold or :reject.
    attr_reader :action
    # Category details (Category structs), hits (Hit structs, in order of start offset).
    attr_reader :category_details, :hits
    # Evasion techniques seen in the hits (symbols such as :leet, :confusable).
    attr_reader :evasion
    # Number of invalid UTF-8 sequences in the post (each replaced by U+FFFD for matching).
    attr_reader :invalid_utf8
    # With censor: true, the post with each character of each hit replaced by "*" (UTF-8); else nil.
    attr_reader :censored
    # The post's id as given to scan / scan_many, or nil.
    attr_reader :id

    def initialize(action, categories, hits, evasion, invalid_utf8, truncated, censored, id)
      @action = action
      @category_details = categories
      @hits = hits
      @evasion = evasion
      @invalid_utf8 = invalid_utf8
      @hits_truncated = truncated
      @censored = censored
      @id = id
      freeze
    end

    # {category name => score} for every category with a non-zero score.
    def categories
      @category_details.to_h { |c| [c.name, c.score] }
    end

    # Escalation routes of the categories, sorted, unique.
    def routes
      @category_details.map(&:route).reject(&:empty?).uniq.sort
    end

    # True when there were more hits than the engine's max_hits: only the first are listed.
    def hits_truncated?
      @hits_truncated
    end

    # True when the action is anything but :allow.
    def flagged?
      @action != :allow
    end

    # A JSON-ready Hash shaped like the CLI's output lines (byte offsets).
    def to_h
      h = {}
      h["id"] = @id unless @id.nil?
      h.merge!("action" => @action.to_s.upcase, "categories" => categories, "routes" => routes,
               "hits" => @hits.map do |x|
                 { "rule" => x.rule, "category" => x.category, "severity" => x.severity.to_s,
                   "score" => x.score, "start" => x.start, "end" => x.end, "evasion" => x.evasion.map(&:to_s) }
                   .merge(x.quoted ? { "quoted" => true } : {})
               end,
               "evasion" => @evasion.map(&:to_s), "invalid_utf8" => @invalid_utf8,
               "hits_truncated" => @hits_truncated)
      h["censored"] = @censored unless @censored.nil?
      h
    end

    def inspect
      "#<Modfilter::Verdict #{@action.to_s.upcase}#{" id=#{@id.inspect}" unless @id.nil?} " \
        "categories=#{categories.inspect} hits=#{@hits.size}>"
    end
  end

  # Compiled rule packs: build once per process, reuse for every post.
  #
  #   engine = Modfilter::Engine.new                         # the default packs built into the library
  #   engine = Modfilter::Engine.from_rules("/etc/modfilter") # a directory of *.toml packs
  #   v = engine.scan("You are an idiot", role: :member, censor: true)
  #   v.action     # => :flag
  #   engine.scan_many(["first post", { text: "second", role: :staff, id: 2 }])
  #
  # An engine owns C memory (the compiled engine, a scanner, verdicts): it is freed by the garbage
  # collector (FFI::AutoPointer), or at once by #close. Calls on one engine from several threads are
  # serialised by a mutex (the C scanner is single-threaded); build one engine per process.
  class Engine
    # Posts per mf_scan_batch call in #scan_many.
    BATCH_SIZE = 128

    UTF_8 = Encoding::UTF_8
    BINARY = Encoding::BINARY
    NOT_CONTINUATION = "^\x80-\xBF".b.freeze
    POST_SIZE = 96
    # mf_post version 2 as MF_POST_INIT fills it.
    POST_TEMPLATE = [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0].pack(Native::POST_PACK).freeze
    # The first word of the summary of a clean verdict: version 1, action ALLOW.
    CLEAN_WORD0 = Native::SUMMARY_VERSION
    private_constant :UTF_8, :BINARY, :NOT_CONTINUATION, :POST_SIZE, :POST_TEMPLATE, :CLEAN_WORD0

    # Compiles the rule packs in +path+: a .toml file or a directory searched recursively.
    def self.from_rules(path, **options)
      new(rules: path, **options)
    end

    # Compiles one rule pack given as TOML text (diagnostics name it "<memory>.toml").
    def self.from_text(toml, **options)
      new(text: toml, **options)
    end

    # Options: rules (path), text (TOML), flag_threshold / hold_threshold / reject_threshold (override
    # the packs' policy), max_post_bytes (largest post accepted; default 16 MiB), max_hits (most hits
    # listed per post; default 1024). Neither rules nor text: the library's default packs.
    # Raises RulesError (file, line), ModfilterIOError, InvalidArgumentError, LibraryNotFound.
    def initialize(rules: nil, text: nil, flag_threshold: nil, hold_threshold: nil, reject_threshold: nil,
                   max_post_bytes: nil, max_hits: nil)
      Native.load!
      opts = Native::EngineOptions.new
      Modfilter.check(Native.mf_engine_options_init(opts, Native::ENGINE_OPTIONS_VERSION))
      keep = []
      if text
        raw = text.to_str.b
        keep << (mp = FFI::MemoryPointer.from_string(raw))
        opts[:rules_text] = mp
        opts[:rules_text_len] = raw.bytesize
      elsif rules
        path = rules.respond_to?(:to_path) ? rules.to_path : rules.to_str
        keep << (mp = FFI::MemoryPointer.from_string(path))
        opts[:rules_path] = mp
      end
      { flag_threshold: flag_threshold, hold_threshold: hold_threshold, reject_threshold: reject_threshold }.each do |k, v|
        next if v.nil?
        raise ArgumentError, "#{k} must be >= 0, not #{v.inspect}" unless v.is_a?(Numeric) && v >= 0

        opts[k] = v.to_f
      end
      { max_post_bytes: max_post_bytes, max_hits: max_hits }.each do |k, v|
        next if v.nil?
        raise ArgumentError, "#{k} must be a positive Integer, not #{v.inspect}" unless v.is_a?(Integer) && v.positive?

        opts[k] = v
      end
      out = FFI::MemoryPointer.new(:pointer)
      Modfilter.check(Native.mf_engine_create(out, opts))
      keep.clear
      @res = Resources.new(out.read_pointer)
      @ptr = FFI::AutoPointer.new(@res.engine, @res)
      Modfilter.check(Native.mf_scanner_create(out, @res.engine), "creating a scanner")
      @res.scanner = out.read_pointer
      @verdict = @res.new_verdict
      @mutex = Mutex.new
      @names = {}
      @rules = {}
      @evasions = { 0 => Verdict::EMPTY }
      @len = FFI::MemoryPointer.new(:size_t)
      @failed = FFI::MemoryPointer.new(:size_t)
      @hit = FFI::MemoryPointer.new(:uint8, 64)
      @hit.put_uint32(0, Native::HIT_VERSION)
      @cat = FFI::MemoryPointer.new(:uint8, 32)
      @cat_name = @cat
      @cat_score = @cat + 8
      @cat_action = @cat + 16
      @cat_route = @cat + 24
      @summaries = Native.summaries?
      @sums = nil
      @buf = FFI::MemoryPointer.new(:uint8, 4096)
      @batch = FFI::MemoryPointer.new(:pointer, 1)
      @batch_n = 0
      @posts = nil
      @posts_n = 0
      @posts_dirty = true
      # verdicts are immutable: every clean post without an id or censored copy shares one object
      @clean_allow = Verdict.new(:allow, Verdict::EMPTY, Verdict::EMPTY, Verdict::EMPTY, 0, false, nil, nil)
      @clean = { allow: @clean_allow }
    end

    # Number of rules compiled into the engine.
    def rule_count
      Native.mf_engine_rule_count(live)
    end

    # Frees the C memory now (the garbage collector does it otherwise). Later calls raise.
    def close
      @mutex.synchronize do
        @ptr&.free
        @ptr = nil
      end
      nil
    end

    def closed?
      @ptr.nil?
    end

    # Scans one post and returns its Verdict.
    #
    # +text+: a String. UTF-8, US-ASCII and binary (ASCII-8BIT) Strings are scanned as their exact
    # bytes, invalid UTF-8 included (counted in verdict.invalid_utf8); other encodings are converted
    # to UTF-8 first. An empty text is a valid post (ALLOW).
    # role: :member (default) or :staff. censor: also produce verdict.censored.
    # id, author_id, channel, ts_ms (Integer milliseconds or a Time), age_days, edit: who wrote the
    # post, where and when (mf_post version 2; read only by a scan with a state attached). +id+ is
    # copied to verdict.id.
    # Raises PostTooLargeError (larger than max_post_bytes), InvalidArgumentError (nil text, bad role).
    def scan(text, role: :member, censor: false, id: nil, author_id: nil, channel: nil, ts_ms: nil,
             age_days: nil, edit: false)
      bytes = bytes_of(text)
      r = ROLES[role] || role_of(role)
      @mutex.synchronize do
        scanner = live_scanner
        v = @verdict
        if !censor && id.nil? && author_id.nil? && channel.nil? && ts_ms.nil? && age_days.nil? && !edit
          st = Native.mf_scan_text(scanner, v, bytes, bytes.bytesize, r)
        else
          packed = pack_posts([[bytes, r, id, author_id, channel, ts_ms, age_days, edit]], r,
                              censor ? Native::SCAN_CENSOR : 0)
          st = Native.mf_scan(scanner, v, packed)
        end
        Modfilter.check(st) unless st.zero?
        action = Native.mf_verdict_action(v)
        flags = Native.mf_verdict_flags(v)
        nhits = Native.mf_verdict_hit_count(v)
        if action.zero? && flags.zero? && nhits.zero? && !censor && id.nil?
          @clean_allow # the common case: nothing found
        else
          read_verdict(v, bytes, id, censor, action, flags, nhits)
        end
      end
    end

    # Scans many posts with mf_scan_batch (BATCH_SIZE per call) and returns their Verdicts in order.
    #
    # Each post is a String (scanned with +role+) or a Hash with :text and optionally :role, :id,
    # :author_id, :channel, :ts_ms, :age_days, :edit (Symbol or String keys).
    # on_error: :raise (default) raises the first refused post's error (its #index is the post's
    # position); :include puts the error object in that post's place and goes on.
    def scan_many(posts, role: :member, censor: false, on_error: :raise)
      raise ArgumentError, "on_error must be :raise or :include" unless %i[raise include].include?(on_error)

      default_role = ROLES[role] || role_of(role)
      flags = censor ? Native::SCAN_CENSOR : 0
      # a plain String post stays its bytes; a Hash becomes [bytes, role, id, author_id, ...]
      items = posts.map do |p|
        if p.is_a?(String)
          p.encoding == UTF_8 ? p : bytes_of(p)
        else
          item_of(p, default_role)
        end
      end
      out = []
      @mutex.synchronize do
        scanner = live_scanner
        i = 0
        while i < items.size
          chunk = items[i, BATCH_SIZE]
          verdicts = batch_verdicts(chunk.size)
          st = Native.mf_scan_batch(scanner, verdicts, pack_posts(chunk, default_role, flags), chunk.size, @failed)
          done = st.zero? ? chunk.size : @failed.read(:size_t)
          read_batch(chunk, done, censor, out) if done.positive?
          i += done
          next if st.zero?

          err = Modfilter.error_for(st)
          err.index = i
          raise err if on_error == :raise

          out << err
          i += 1
        end
      end
      out
    end

    def inspect
      closed? ? "#<Modfilter::Engine closed>" : "#<Modfilter::Engine rules=#{rule_count}>"
    end

    private

    # Owns the C objects; called by FFI::AutoPointer (garbage collection) or #close. Scanner and
    # verdicts go before the engine they were made from, whatever order the collector finds them in.
    class Resources
      attr_reader :engine, :verdicts
      attr_accessor :scanner

      def initialize(engine)
        @engine = engine
        @scanner = nil
        @verdicts = []
      end

      def new_verdict
        out = FFI::MemoryPointer.new(:pointer)
        Modfilter.check(Native.mf_verdict_create(out), "creating a verdict")
        v = out.read_pointer
        @verdicts << v
        v
      end

      def call(_ptr)
        @verdicts.each { |v| Native.mf_verdict_destroy(v) }
        @verdicts.clear
        Native.mf_scanner_destroy(@scanner) if @scanner
        @scanner = nil
        Native.mf_engine_destroy(@engine)
      end
    end

    def live
      raise InvalidArgumentError.new("this Modfilter::Engine is closed", InvalidArgumentError::STATUS) unless @ptr

      @ptr
    end

    def live_scanner
      live
      @res.scanner
    end

    def role_of(role)
      r = role.respond_to?(:to_sym) ? ROLES[role.to_sym.downcase] : nil
      return r if r

      raise InvalidArgumentError.new("role must be :member or :staff, not #{role.inspect}", InvalidArgumentError::STATUS)
    end

    # The exact bytes to scan (see #scan).
    def bytes_of(text)
      unless text.is_a?(String)
        if text.nil? || !text.respond_to?(:to_str)
          raise InvalidArgumentError.new("a post's text must be a String, not #{text.nil? ? 'nil' : text.class}",
                                         InvalidArgumentError::STATUS)
        end
        text = text.to_str
      end
      enc = text.encoding
      return text if enc == UTF_8 || enc == BINARY || enc == Encoding::US_ASCII

      begin
        text.encode(UTF_8)
      rescue EncodingError
        text
      end
    end

    # A Hash post as [bytes, role, id, author_id, channel, ts_ms, age_days, edit].
    def item_of(post, default_role)
      unless post.is_a?(Hash)
        raise InvalidArgumentError.new("a post is a String or a Hash with :text, not #{post.class}",
                                       InvalidArgumentError::STATUS)
      end

      get = ->(k) { post.key?(k) ? post[k] : post[k.to_s] }
      role = get.call(:role)
      [bytes_of(get.call(:text)), role.nil? ? default_role : (ROLES[role] || role_of(role)),
       get.call(:id), get.call(:author_id), get.call(:channel), get.call(:ts_ms), get.call(:age_days),
       get.call(:edit) ? true : false]
    end

    # Writes posts (the bytes of a plain post, else [bytes, role, id, author_id, channel, ts_ms,
    # age_days, edit]) as an array of mf_post version 2 structs into @posts and returns it; their
    # strings are copied into @buf. Both live until the next call (the mutex is held). The structs
    # start from a template (version, no id, unknown age...), so a plain post costs three writes
    # besides its text (Array#pack of all fields costs about 1 us a post).
    def pack_posts(items, default_role, flags)
      n = items.size
      need = 0
      items.each do |it|
        if it.is_a?(String)
          need += it.bytesize
        else
          need += it[0].bytesize + it[2].to_s.bytesize + it[3].to_s.bytesize + it[4].to_s.bytesize
        end
      end
      @buf = FFI::MemoryPointer.new(:uint8, need * 2) if need > @buf.size
      if n > @posts_n
        @posts = FFI::MemoryPointer.new(:uint8, POST_SIZE * n, false)
        @posts_n = n
        @posts_dirty = true
      end
      if @posts_dirty
        @posts.put_bytes(0, POST_TEMPLATE * @posts_n)
        @posts_dirty = false
      end
      buf = @buf
      posts = @posts
      base = buf.address
      off = 0
      at = 0
      plain = (default_role & 0xFFFFFFFF) | (flags << 32)
      items.each do |it|
        if it.is_a?(String)
          len = it.bytesize
          buf.put_bytes(off, it) if len.positive?
          posts.put_uint64(at + 8, base + off)
          posts.put_uint64(at + 16, len)
          posts.put_uint64(at + 24, plain)
          off += len
          at += POST_SIZE
          next
        end

        bytes, r, id, author, channel, ts, age, edit = it
        len = bytes.bytesize
        buf.put_bytes(off, bytes) if len.positive?
        posts.put_uint64(at + 8, base + off)
        posts.put_uint64(at + 16, len)
        posts.put_uint64(at + 24, (r & 0xFFFFFFFF) | (flags << 32))
        off += len
        unless id.nil? && author.nil? && channel.nil? && ts.nil? && age.nil? && !edit
          @posts_dirty = true
          [id, author, channel].each_with_index do |f, k|
            next if f.nil?

            f = f.to_s
            buf.put_bytes(off, f) unless f.empty?
            posts.put_uint64(at + 32 + (16 * k), base + off)
            posts.put_uint64(at + 40 + (16 * k), f.bytesize)
            off += f.bytesize
          end
          ts = (ts.to_r * 1000).to_i if ts.is_a?(Time)
          posts.put_int64(at + 80, ts || 0)
          posts.put_int32(at + 88, age || -1)
          posts.put_uint32(at + 92, edit ? 1 : 0)
        end
        at += POST_SIZE
      end
      posts
    end

    def batch_verdicts(n)
      if @batch_n < n
        @res.new_verdict while @res.verdicts.size < n + 1
        # verdicts[0] is the single-scan verdict: the batch uses the ones after it
        @batch = FFI::MemoryPointer.new(:pointer, n)
        @batch.write_array_of_pointer(@res.verdicts[1, n])
        @batch_n = n
      end
      @batch
    end

    def name(addr)
      return "" if addr.zero?

      @names[addr] ||= FFI::Pointer.new(addr).read_string.force_encoding(UTF_8).freeze
    end

    # What a hit's rule always says: [rule id, category, severity, score], kept per engine by the
    # address of the rule id (which lives as long as the engine).
    def rule_of(hp)
      @rules[hp.get_uint64(8)] = [name(hp.get_uint64(8)), name(hp.get_uint64(16)), SEVERITIES[hp.get_int32(24)],
                                  hp.get_double(32)].freeze
    end

    def evasion(bits)
      @evasions[bits] ||= 32.times.filter_map do |b|
        next if (bits & (1 << b)).zero?

        n = Native.mf_evasion_name(1 << b)
        n.empty? ? nil : n.to_sym
      end.freeze
    end

    # Reads the verdicts of the first +done+ posts of a batch (in @res.verdicts[1..]) into +out+.
    # With mf_verdict_summaries, one call reads every verdict's action, flags and counts, and a
    # clean post costs no FFI call of its own.
    def read_batch(chunk, done, censor, out)
      verdicts = @res.verdicts
      unless @summaries
        done.times do |j|
          v = verdicts[j + 1]
          it = chunk[j]
          bytes, id = it.is_a?(String) ? [it, nil] : [it[0], it[2]]
          out << read_verdict(v, bytes, id, censor, Native.mf_verdict_action(v), Native.mf_verdict_flags(v),
                              Native.mf_verdict_hit_count(v))
        end
        return
      end

      if @sums.nil? || @sums.size < Native::SUMMARY_SIZE * done
        @sums = FFI::MemoryPointer.new(:uint8, Native::SUMMARY_SIZE * [done, BATCH_SIZE].max)
      end
      @sums.put_uint32(0, Native::SUMMARY_VERSION)
      st = Native.mf_verdict_summaries(@batch, done, @sums)
      Modfilter.check(st, "reading verdict summaries") unless st.zero?
      # five 64-bit words a verdict: version | action << 32, flags | evasion << 32, hit_count,
      # category_count, invalid_utf8_count
      w = @sums.get_array_of_uint64(0, 5 * done)
      clean = @clean_allow
      k = 0
      j = 0
      while j < done
        it = chunk[j]
        w0 = w[k]
        if w0 == CLEAN_WORD0 && w[k + 1].zero? && w[k + 2].zero? && !censor && it.is_a?(String)
          out << clean # the common case: an ALLOW post with nothing found, no id, no censored copy
        else
          bytes, id = it.is_a?(String) ? [it, nil] : [it[0], it[2]]
          w1 = w[k + 1]
          out << read_verdict(verdicts[j + 1], bytes, id, censor, w0 >> 32, w1 & 0xFFFFFFFF, w[k + 2],
                              w1 >> 32, w[k + 3], w[k + 4])
        end
        k += 5
        j += 1
      end
    end

    # The Verdict in +v+, given what was already read of it: +action+, +flags+ and +nhits+; the
    # evasion bits and the category and invalid UTF-8 counts when known (else read here).
    def read_verdict(v, bytes, id, censor, action, flags, nhits, evasion_bits = nil, ncat = nil, invalid = nil)
      action = ACTIONS[action]
      censored = censor ? read_censored(v) : nil
      if flags.zero? && nhits.zero?
        return @clean[action] ||= Verdict.new(action, Verdict::EMPTY, Verdict::EMPTY, Verdict::EMPTY, 0, false, nil, nil) if censored.nil? && id.nil?

        return Verdict.new(action, Verdict::EMPTY, Verdict::EMPTY, Verdict::EMPTY, 0, false, censored, id)
      end

      invalid = (flags & Native::VERDICT_INVALID_UTF8).zero? ? 0 : invalid || Native.mf_verdict_invalid_utf8_count(v)
      cats = read_categories(v, ncat || Native.mf_verdict_category_count(v))
      hits = nhits.zero? ? Verdict::EMPTY : read_hits(v, bytes, nhits)
      Verdict.new(action, cats, hits, evasion(evasion_bits || Native.mf_verdict_evasion(v)), invalid,
                  (flags & Native::VERDICT_HITS_TRUNCATED) != 0, censored, id)
    end

    # Structs are built with allocate and the member writers: Struct.new with keywords (the
    # keyword_init: true the public classes keep) costs about five times as much.
    def read_categories(v, n)
      return Verdict::EMPTY if n.zero?

      cat = @cat
      Array.new(n) do |i|
        st = Native.mf_verdict_category(v, i, @cat_name, @cat_score, @cat_action, @cat_route)
        Modfilter.check(st) unless st.zero?
        c = Category.allocate
        c.name = name(cat.get_uint64(0))
        c.score = cat.get_double(8)
        c.action = ACTIONS[cat.get_int32(16)]
        c.route = name(cat.get_uint64(24))
        c
      end.freeze
    end

    # The hits of +v+, in order of start offset. Character offsets: the byte offsets themselves when
    # the post is ASCII-only (String#ascii_only? is cached by the String). Otherwise the characters
    # are counted once, from each hit's start to the next one's, and a hit's end is its start plus
    # the characters of its text: a piece that is valid UTF-8 (so cut at character starts) is
    # counted by String#length, any other by counting its bytes that do not continue a UTF-8
    # sequence (String#count, whose set costs about a microsecond to build on each call).
    def read_hits(v, bytes, n)
      hp = @hit
      if (ascii = bytes.ascii_only?)
        text = bytes
        same = bytes.encoding == UTF_8
      else
        text = bytes.encoding == UTF_8 ? bytes : bytes.dup.force_encoding(UTF_8)
        same = true
        pos = 0
        count = 0
      end
      evasions = @evasions
      hits = Array.new(n)
      i = 0
      while i < n
        st = Native.mf_verdict_hit(v, i, hp)
        Modfilter.check(st) unless st.zero?
        s = hp.get_uint64(40)
        e = hp.get_uint64(48)
        rule = @rules[hp.get_uint64(8)] || rule_of(hp)
        h = Hit.allocate
        h.rule = rule[0]
        h.category = rule[1]
        h.severity = rule[2]
        h.score = rule[3]
        h.start = s
        h.end = e
        ev = hp.get_uint32(56)
        h.evasion = evasions[ev] || evasion(ev)
        h.quoted = (hp.get_uint32(60) & Native::HIT_QUOTED) != 0
        t = text.byteslice(s, e - s)
        t.force_encoding(UTF_8) unless same
        h.text = t
        if ascii
          h.char_start = s
          h.char_end = e
        else
          if s < pos # not in order of start: count again from the beginning
            pos = 0
            count = 0
          end
          if s > pos
            gap = text.byteslice(pos, s - pos)
            count += gap.valid_encoding? ? gap.length : gap.b.count(NOT_CONTINUATION)
            pos = s
          end
          h.char_start = count
          h.char_end = count + (t.valid_encoding? ? t.length : t.b.count(NOT_CONTINUATION))
        end
        hits[i] = h
        i += 1
      end
      hits.freeze
    end

    def read_censored(v)
      ptr = Native.mf_verdict_censored(v, @len)
      ptr.null? ? nil : ptr.read_bytes(@len.read(:size_t)).force_encoding(UTF_8)
    end
  end

  class << self
    # The path (or SONAME) libmodfilter was loaded from (loads it if needed).
    def library_path
      Native.load!
      Native.loaded
    end

    # The loaded library's version, "major.minor.patch".
    def library_version
      Native.load!
      Native.mf_version
    end

    # The exception for a failed call's status, with mf_last_error() of this thread.
    def error_for(status, what = nil)
      msg = Native.mf_last_error.to_s
      msg = Native.mf_status_str(status).to_s if msg.empty?
      msg = msg.dup.force_encoding(Encoding::UTF_8)
      msg = "#{what}: #{msg}" if what
      (ERRORS[status] || Error).new(msg, status)
    end

    # Raises unless +status+ is MF_OK.
    def check(status, what = nil)
      raise error_for(status, what) unless status.zero?
    end
  end
end
