# frozen_string_literal: true

require_relative "test_helper"

class ScanTest < Minitest::Test
  def engine
    ModfilterTest.engine
  end

  def test_clean_post_is_allowed
    v = engine.scan("Thanks, the new firmware fixed the pairing problem on my laptop.")
    assert_equal :allow, v.action
    assert_empty v.hits
    assert_equal({}, v.categories)
    refute v.flagged?
  end

  def test_empty_text_is_a_valid_post
    v = engine.scan("")
    assert_equal :allow, v.action
    assert_equal 0, v.invalid_utf8
  end

  def test_insult_is_flagged_with_hits
    v = engine.scan("Honestly you are an idiot")
    assert_equal :flag, v.action
    assert v.flagged?
    assert_includes v.categories.keys, "abuse.harassment"
    hit = v.hits.find { |h| h.rule == "harassment.en.insult" }
    refute_nil hit
    assert_equal "idiot", hit.text
    assert_equal [20, 25], [hit.start, hit.end]
    assert_equal [20, 25], [hit.char_start, hit.char_end]
    assert_includes %i[low medium high critical], hit.severity
    assert_equal "pr", v.category_details.find { |c| c.name == "abuse.harassment" }.route
  end

  def test_quoted_insult_is_marked_and_not_flagged
    v = engine.scan("> You are an idiot\nPlease keep it civil, everyone.")
    assert_equal :allow, v.action
    refute_empty v.hits
    assert(v.hits.all?(&:quoted))
    assert_equal true, v.to_h["hits"].first["quoted"]
    plain = engine.scan("You are an idiot")
    assert(plain.hits.none?(&:quoted))
    refute plain.to_h["hits"].first.key?("quoted")
  end

  def test_staff_promise_is_held_member_words_are_not
    text = "I promise you a full refund tomorrow"
    staff = engine.scan(text, role: :staff)
    assert_equal :hold, staff.action
    assert_equal ["legal"], staff.routes
    assert_equal :allow, engine.scan(text, role: :member).action
    assert_equal :hold, engine.scan(text, role: "staff").action
  end

  def test_offsets_in_bytes_and_characters
    text = "Caf\u00e9 \u{1F600} you are an idiot"
    v = engine.scan(text)
    hit = v.hits.find { |h| h.text == "idiot" }
    refute_nil hit
    assert_equal text.byteslice(hit.start, hit.end - hit.start), "idiot"
    assert_equal "idiot", text[hit.char_start...hit.char_end]
    assert_equal hit.start - 4, hit.char_start # é is 2 bytes, the emoji 4: 1 + 3 bytes more than characters
    v.hits.each { |h| assert_equal h.text, text[h.char_start...h.char_end] }
  end

  def test_strings_come_back_as_utf8
    v = engine.scan("Caf\u00e9, you are an idiot", censor: true)
    assert_equal Encoding::UTF_8, v.censored.encoding
    assert_equal "Caf\u00e9, #{'*' * 16}", v.censored # each character of the hits starred
    assert v.censored.valid_encoding?
    v.hits.each do |h|
      assert_equal Encoding::UTF_8, h.rule.encoding
      assert_equal Encoding::UTF_8, h.category.encoding
      assert_equal Encoding::UTF_8, h.text.encoding
    end
  end

  def test_censor
    v = engine.scan("shut up, moron", censor: true)
    assert_equal :flag, v.action
    assert_includes v.censored, "*****"
    refute_includes v.censored, "moron"
    assert_nil engine.scan("shut up, moron").censored
  end

  def test_invalid_utf8_is_scanned_as_its_bytes
    text = "you are an idiot \xFF\xFE end".dup.force_encoding(Encoding::UTF_8)
    refute text.valid_encoding?
    v = engine.scan(text)
    assert_equal :flag, v.action
    assert_equal 2, v.invalid_utf8 # two invalid bytes, each its own sequence
    hit = v.hits.find { |h| h.text == "idiot" }
    assert_equal [11, 16], [hit.start, hit.end]
    assert_equal 11, hit.char_start
  end

  def test_binary_string_is_scanned_as_its_bytes
    text = "\xC3\xA9 you are an idiot \xC0".b
    v = engine.scan(text)
    assert_equal :flag, v.action
    assert_equal 1, v.invalid_utf8
    hit = v.hits.find { |h| h.text == "idiot" }
    assert_equal 14, hit.start
    assert_equal 13, hit.char_start # the two bytes of é are one character
  end

  def test_other_encodings_are_converted_to_utf8
    text = "Caf\u00e9 you are an idiot".encode(Encoding::ISO_8859_1)
    v = engine.scan(text)
    assert_equal 0, v.invalid_utf8
    hit = v.hits.find { |h| h.text == "idiot" }
    assert_equal 17, hit.start # bytes of the UTF-8 conversion
    assert_equal 16, hit.char_start
  end

  def test_post_fields_are_accepted_and_id_copied
    v = engine.scan("you are an idiot", id: 42, author_id: "u7", channel: "support", ts_ms: Time.at(1_767_225_600),
                                         age_days: 3, edit: true)
    assert_equal 42, v.id
    assert_equal :flag, v.action
    assert_equal engine.scan("you are an idiot").hits, v.hits
  end

  def test_to_h_is_shaped_like_the_cli_output
    h = engine.scan("you are an idiot", id: "p1").to_h
    assert_equal "p1", h["id"]
    assert_equal "FLAG", h["action"]
    assert_kind_of Integer, h["hits"].first["start"]
    assert_equal false, h["hits_truncated"]
  end

  def test_verdicts_are_frozen_ruby_objects
    v = engine.scan("you are an idiot")
    assert v.frozen?
    engine.scan("a different post entirely")
    assert_equal :flag, v.action # not overwritten by the next scan
  end

  def test_library_is_reported
    assert_match(/\A\d+\.\d+\.\d+\z/, Modfilter.library_version)
    assert_equal ENV["MODFILTER_LIBRARY"], Modfilter.library_path if ENV["MODFILTER_LIBRARY"]
    assert_operator engine.rule_count, :>, 10
  end

  def test_threads_share_one_engine
    texts = ["you are an idiot", "hello there", "I promise you a full refund"] * 20
    expected = texts.map { |t| engine.scan(t).action }
    results = Array.new(4) { Thread.new { texts.map { |t| engine.scan(t).action } } }.map(&:value)
    results.each { |r| assert_equal expected, r }
  end
end
