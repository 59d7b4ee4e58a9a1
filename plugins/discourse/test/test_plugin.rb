# frozen_string_literal: true

# The plugin run as Discourse runs it (plugin.rb evaluated by a Plugin::Instance, posts going through
# NewPostManager, events fired after creation and edits), with the real Ruby binding and library and
# Discourse's objects faked (test/fakes.rb).
require "minitest/autorun"
require "tmpdir"
require "open3"
require "rbconfig"
$LOAD_PATH.unshift(File.expand_path("../../../bindings/ruby/lib", __dir__))
require_relative "fakes"

class DiscoursePluginTest < Minitest::Test
  PLUGIN = File.join(Fakes::PLUGIN_DIR, "plugin.rb")
  THREAT = "I will kill you"
  PROMISE = "I promise you a full refund tomorrow"
  INSULT = "Honestly you are an idiot"
  CLEAN = "Thanks, the new firmware fixed the pairing problem on my laptop."

  def setup
    Fakes.reset!
    ModfilterDiscourse::Filter.reset! if defined?(ModfilterDiscourse::Filter)
    @plugin = Plugin::Instance.new(PLUGIN).activate!
    SiteSetting.modfilter_enabled = true
    @member = User.new(7, "member")
    @staff = User.new(1, "admin", staff: true)
  end

  def post_new(user, raw, **args)
    NewPostManager.new(user, { raw: raw, topic_id: 12 }.merge(args)).perform
  end

  def log(kind)
    Fakes.log.select { |e| e[0] == kind }
  end

  def test_plugin_registers_with_discourse
    assert_equal :modfilter_enabled, @plugin.enabled_setting
    assert_equal({ "modfilter_verdict" => :json }, @plugin.custom_field_types)
    assert_equal 1, NewPostManager.handlers.size
    %i[post_created post_edited site_setting_changed].each { |e| assert_equal 1, DiscourseEvent.events[e].size, e }
    assert_equal "hold", SiteSetting.modfilter_on_error # hold by default
  end

  def test_clean_post_is_created_untouched
    result = post_new(@member, CLEAN)
    assert_equal :create_post, result.action
    assert result.success?
    assert_empty result.post.custom_fields
    assert_empty log(:flag)
    assert_empty log(:enqueue)
  end

  def test_threat_is_refused_with_a_reason
    result = post_new(@member, THREAT)
    assert result.failed?
    assert_equal :created_post, result.action
    assert_match(/not published.*abuse\.threat/, result.errors.full_messages.join)
    assert_empty log(:created)
    assert_empty log(:enqueue)
  end

  def test_staff_refund_promise_goes_to_the_review_queue
    result = post_new(@staff, PROMISE)
    assert_equal :enqueued, result.action
    assert result.success?
    assert_equal :modfilter, result.reason
    assert_equal PROMISE, result.reviewable.payload[:raw]
    assert_equal [:modfilter], log(:enqueue).map { |e| e[1] }
    assert_empty log(:created)
  end

  def test_same_words_from_a_member_are_published
    result = post_new(@member, PROMISE)
    assert_equal :create_post, result.action
    assert_empty log(:enqueue)
    assert_empty log(:flag)
  end

  def test_new_topic_title_is_scanned_too
    result = NewPostManager.new(@member, { raw: CLEAN, title: THREAT, category: 3 }).perform
    assert result.failed?
  end

  def test_flagged_post_is_published_recorded_and_flagged
    result = post_new(@member, INSULT)
    assert_equal :create_post, result.action
    post = result.post
    field = post.saved_fields.fetch("modfilter_verdict")
    assert_equal "FLAG", field["action"]
    assert_includes field["categories"].keys, "abuse.harassment"
    assert(field["hits"].any? { |h| INSULT[h["start"]...h["end"]] == "idiot" })
    flags = log(:flag)
    assert_equal 1, flags.size
    _, by, flagged, type, message = flags.first
    assert_equal Discourse::SYSTEM_USER_ID, by.id
    assert_same post, flagged
    assert_equal :notify_moderators, type
    assert_match(/FLAG.*abuse\.harassment/, message)
  end

  def test_invalid_utf8_does_not_break_the_request
    raw = "you are an idiot \xFF\xFE".dup.force_encoding("UTF-8")
    result = post_new(@member, raw)
    assert_equal :create_post, result.action
    assert_equal "FLAG", result.post.saved_fields.fetch("modfilter_verdict")["action"]
    assert post_new(@member, "I will kill you \xC0".b).failed?
  end

  def test_missing_raw_is_an_empty_post
    result = NewPostManager.new(@member, { raw: nil, topic_id: 3 }).perform
    assert_equal :create_post, result.action
  end

  def test_disabled_plugin_does_nothing
    SiteSetting.modfilter_enabled = false
    assert_equal :create_post, post_new(@member, THREAT).action
    assert_empty log(:flag)
  end

  def test_edit_to_a_staff_promise_is_flagged_for_review
    post = post_new(@staff, "We are looking into it.").post
    Fakes.log.clear
    post.raw = PROMISE
    post.last_editor = @staff
    DiscourseEvent.trigger(:post_edited, post, false, nil)
    assert_equal "HOLD", post.saved_fields.fetch("modfilter_verdict")["action"]
    assert_equal [:notify_moderators], log(:flag).map { |e| e[3] }
    assert_match(/after an edit: HOLD/, log(:flag).first[4])
    refute post.hidden?
  end

  def test_edit_is_judged_by_the_authors_role_not_the_editors
    post = post_new(@member, CLEAN).post
    Fakes.log.clear
    post.raw = PROMISE
    post.last_editor = @staff  # a moderator tidies a member's post that quotes a promise
    DiscourseEvent.trigger(:post_edited, post, false, nil)
    assert_empty log(:flag)
    refute_equal "HOLD", (post.saved_fields || {}).dig("modfilter_verdict", "action")
  end

  def test_edit_to_a_threat_is_flagged_and_hidden
    post = post_new(@member, CLEAN).post
    post.raw = THREAT
    DiscourseEvent.trigger(:post_edited, post, false, nil)
    assert_equal 1, log(:flag).size
    assert_equal PostActionType.types[:inappropriate], post.hidden_with
    SiteSetting.modfilter_hide_rejected_edits = false
    other = post_new(@member, CLEAN).post
    other.raw = THREAT
    DiscourseEvent.trigger(:post_edited, other, false, nil)
    refute other.hidden?
    assert_equal 2, log(:flag).size
  end

  def test_clean_edit_and_system_edits_are_left_alone
    post = post_new(@member, CLEAN).post
    post.raw = "#{CLEAN} Edited to add the model number."
    DiscourseEvent.trigger(:post_edited, post, false, nil)
    post.raw = THREAT
    post.last_editor = Discourse.system_user
    DiscourseEvent.trigger(:post_edited, post, false, nil)
    assert_empty log(:flag)
  end

  def test_edit_without_content_change_is_skipped
    post = post_new(@member, CLEAN).post
    post.raw = THREAT
    revisor = Struct.new(:reviewable_content_changed?).new(false)
    DiscourseEvent.trigger(:post_edited, post, false, revisor)
    assert_empty log(:flag)
    DiscourseEvent.trigger(:post_edited, post, false, Struct.new(:reviewable_content_changed?).new(true))
    assert_equal 1, log(:flag).size
  end

  def with_rules(text)
    Dir.mktmpdir("modfilter-discourse") do |dir|
      File.write(File.join(dir, "pack.toml"), text)
      SiteSetting.modfilter_rules_directory = dir
      DiscourseEvent.trigger(:site_setting_changed, :modfilter_rules_directory, "", dir)
      yield
    end
  end

  CUSTOM = <<~TOML
    [[rule]]
    id = "x.gizmo"
    category = "spam.gizmo"
    severity = "critical"
    score = 9
    word = "gizmo"
  TOML

  BROKEN = <<~TOML
    [[rule]]
    id = "x.moron"
    category = "abuse.harassment"
    word = "moron"
    severity = "extreme"
  TOML

  def test_rules_directory_setting
    with_rules(CUSTOM) do
      assert post_new(@member, "buy my gizmo").failed?
      assert_equal :create_post, post_new(@member, THREAT).action # only the custom pack now
    end
  end

  def test_filter_failure_holds_by_default
    with_rules(BROKEN) do
      result = post_new(@member, CLEAN)
      assert_equal :enqueued, result.action
      assert_equal :modfilter_unavailable, result.reason
      assert_match(/pack\.toml:5/, Rails.log_io.string)
    end
  end

  def test_filter_failure_can_reject
    SiteSetting.modfilter_on_error = "reject"
    with_rules(BROKEN) do
      result = post_new(@member, CLEAN)
      assert result.failed?
      assert_match(/could not be checked/, result.errors.full_messages.join)
    end
  end

  def test_filter_failure_can_publish_and_flag_never_silently_allow
    SiteSetting.modfilter_on_error = "flag"
    with_rules(BROKEN) do
      result = post_new(@member, CLEAN)
      assert_equal :create_post, result.action
      assert_equal 1, log(:flag).size
      assert_match(/could not scan.*pack\.toml:5/, log(:flag).first[4])
    end
  end

  def test_edit_while_the_filter_fails_is_flagged
    post = post_new(@member, CLEAN).post
    with_rules(BROKEN) do
      DiscourseEvent.trigger(:post_edited, post, false, nil)
      assert_equal 1, log(:flag).size
    end
  end

  def test_no_allow_choice_on_error
    assert_raises(ArgumentError) { SiteSetting.modfilter_on_error = "allow" }
  end

  def test_library_missing_holds_the_post
    code = <<~RUBY
      $LOAD_PATH.unshift(#{File.expand_path('../../../bindings/ruby/lib', __dir__).inspect})
      require #{File.join(__dir__, 'fakes.rb').inspect}
      Fakes.reset!
      Plugin::Instance.new(#{PLUGIN.inspect}).activate!
      SiteSetting.modfilter_enabled = true
      r = NewPostManager.new(User.new(3, "m"), { raw: "hello", topic_id: 1 }).perform
      puts r.action, r.reason
      puts Rails.log_io.string
    RUBY
    out, status = Open3.capture2e({ "MODFILTER_LIBRARY" => "/nonexistent/libmodfilter.so" }, RbConfig.ruby, "-e", code)
    assert status.success?, out
    lines = out.lines.map(&:strip)
    assert_equal %w[enqueued modfilter_unavailable], lines[0, 2]
    assert_match(/LibraryNotFound.*nonexistent/, out)
  end

  def test_engine_is_built_once_per_process
    post_new(@member, CLEAN)
    engine = ModfilterDiscourse::Filter.engine
    post_new(@member, INSULT)
    assert_same engine, ModfilterDiscourse::Filter.engine
  end
end
