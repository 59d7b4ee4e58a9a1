# frozen_string_literal: true

require_relative "test_helper"

class ScanManyTest < Minitest::Test
  def engine
    ModfilterTest.engine
  end

  TEXTS = ["Thanks, that fixed it.", "you are an idiot", "", "I promise you a full refund tomorrow",
           "Caf\u00e9 \u{1F600} shut up, moron", "bad \xFF byte, you are an idiot".dup.force_encoding("UTF-8")].freeze

  def test_same_verdicts_as_scan_one_by_one
    posts = TEXTS * 60 # 360 posts: three mf_scan_batch calls of BATCH_SIZE
    assert_operator posts.size, :>, 2 * Modfilter::Engine::BATCH_SIZE
    many = engine.scan_many(posts, censor: true)
    assert_equal posts.size, many.size
    posts.each_with_index do |t, i|
      one = engine.scan(t, censor: true)
      assert_equal one.action, many[i].action, "post #{i}"
      assert_equal one.hits, many[i].hits, "post #{i}"
      assert_equal one.censored, many[i].censored, "post #{i}"
      assert_equal one.invalid_utf8, many[i].invalid_utf8
    end
    assert_equal %i[allow flag allow allow flag flag], many.first(6).map(&:action)
  end

  def test_hash_posts_carry_role_id_and_fields
    out = engine.scan_many([
                             { text: "I promise you a full refund tomorrow", role: :staff, id: 1 },
                             { "text" => "I promise you a full refund tomorrow", "role" => "member", "id" => "two" },
                             { text: "you are an idiot", id: 3, author_id: "u1", channel: "c", ts_ms: 1_767_225_600_000,
                               age_days: 0, edit: true }
                           ])
    assert_equal [1, "two", 3], out.map(&:id)
    assert_equal %i[hold allow flag], out.map(&:action)
  end

  def test_default_role_applies_to_strings
    assert_equal [:hold], engine.scan_many(["I promise you a full refund tomorrow"], role: :staff).map(&:action)
  end

  def test_empty_list
    assert_equal [], engine.scan_many([])
  end

  def test_refused_post_raises_with_its_index
    small = Modfilter::Engine.new(max_post_bytes: 64)
    posts = ["fine", "you are an idiot", "x" * 65, "after"]
    err = assert_raises(Modfilter::PostTooLargeError) { small.scan_many(posts) }
    assert_equal 2, err.index
    assert_equal(-8, err.status)
    assert_match(/max_post_bytes/, err.message)
    out = small.scan_many(posts * 100, on_error: :include) # a refused post in several batches
    assert_equal 400, out.size
    out.each_with_index do |v, i|
      if i % 4 == 2
        assert_kind_of Modfilter::PostTooLargeError, v
        assert_equal i, v.index
      else
        assert_kind_of Modfilter::Verdict, v
      end
    end
    assert_equal :flag, out[401 % 400].action
  ensure
    small&.close
  end

  def test_bad_post_types
    assert_raises(Modfilter::InvalidArgumentError) { engine.scan_many([nil]) }
    assert_raises(Modfilter::InvalidArgumentError) { engine.scan_many([{ id: 1 }]) }
    assert_raises(Modfilter::InvalidArgumentError) { engine.scan_many([42]) }
    assert_raises(ArgumentError) { engine.scan_many(["x"], on_error: :ignore) }
  end
end
