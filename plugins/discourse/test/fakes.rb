# frozen_string_literal: true

# Minimal stand-ins for the Discourse classes the plugin touches, with the signatures of Discourse's
# own code (lib/new_post_manager.rb, lib/new_post_result.rb, lib/post_action_creator.rb,
# lib/discourse_event.rb, the plugin API of lib/plugin/instance.rb): enough to run plugin.rb as
# Discourse would and to observe what it asks Discourse to do. Discourse itself is not installed.
require "yaml"
require "logger"
require "stringio"

module Fakes
  PLUGIN_DIR = File.expand_path("..", __dir__)

  # Everything the plugin asked Discourse to do, in order.
  def self.log
    @log ||= []
  end

  def self.reset!
    @log = []
    DiscourseEvent.clear
    NewPostManager.clear_handlers!
    SiteSetting.load_defaults
    Post.next_id = 100
    Rails.log_io.truncate(0)
    Rails.log_io.rewind
  end
end

# ActiveModel::Errors, as far as NewPostResult's callers use it.
class FakeErrors
  def initialize
    @h = Hash.new { |h, k| h[k] = [] }
  end

  def add(attr, message)
    @h[attr] << message
  end

  def [](attr)
    @h[attr]
  end

  def full_messages
    @h.values.flatten
  end

  def empty?
    full_messages.empty?
  end
end

# lib/new_post_result.rb
class NewPostResult
  attr_reader :action
  attr_accessor :reason, :post, :reviewable, :pending_count

  def initialize(action, success = false)
    @action = action
    @success = success
  end

  def errors
    @errors ||= FakeErrors.new
  end

  def check_errors(arr)
    if arr.empty?
      @success = true
    else
      arr.each { |e| errors.add(:base, e) }
    end
  end

  def success?
    @success
  end

  def failed?
    !@success
  end
end

# app/models/reviewable_queued_post.rb, as NewPostManager#enqueue fills it.
ReviewableQueuedPost = Struct.new(:payload, :topic_id, :target_created_by, :reason, keyword_init: true)

# lib/new_post_manager.rb: handlers by priority, the first non-nil result wins, else the post is created.
class NewPostManager
  attr_reader :user, :args

  def self.sorted_handlers
    @sorted_handlers ||= clear_handlers!
  end

  def self.handlers
    sorted_handlers.map { |h| h[:proc] }
  end

  def self.clear_handlers!
    @sorted_handlers = []
  end

  def self.add_handler(priority = 0, &block)
    sorted_handlers << { priority: priority, proc: block }
    @sorted_handlers.sort_by! { |h| -h[:priority] }
  end

  def initialize(user, args)
    @user = user
    @args = args.delete_if { |_, v| v.nil? }
  end

  def perform
    NewPostManager.handlers.any? do |handler|
      result = handler.call(self)
      return result if result
    end
    perform_create_post
  end

  def enqueue(reason = nil, creator_opts: {})
    result = NewPostResult.new(:enqueued)
    payload = { raw: @args[:raw], tags: @args[:tags] }
    payload["title"] = @args[:title] if @args[:title]
    reviewable = ReviewableQueuedPost.new(payload: payload, topic_id: @args[:topic_id], target_created_by: @user,
                                          reason: reason)
    Fakes.log << [:enqueue, reason, reviewable, creator_opts]
    result.reviewable = reviewable
    result.reason = reason if reason
    result.check_errors([])
    result.pending_count = 1
    result
  end

  # PostCreator#create: the post exists, then :post_created fires (post, opts, user).
  def perform_create_post
    result = NewPostResult.new(:create_post)
    topic = @args[:title] ? Topic.new(@args[:title]) : Topic.new("an existing topic")
    post = Post.new(raw: @args[:raw], user: @user, topic: topic, post_number: @args[:title] ? 1 : 2)
    Fakes.log << [:created, post]
    DiscourseEvent.trigger(:post_created, post, @args, @user)
    result.check_errors([])
    result.post = post
    result
  end
end

# lib/discourse_event.rb
class DiscourseEvent
  def self.events
    @events ||= Hash.new { |h, k| h[k] = [] }
  end

  def self.on(name, &block)
    events[name] << block
  end

  def self.trigger(name, *args)
    events[name].each { |b| b.call(*args) }
  end

  def self.clear
    @events = nil
  end
end

# SiteSetting: defaults read from the plugin's own config/settings.yml (so the file is checked too).
class SiteSetting
  def self.load_defaults
    @values = {}
    @choices = {}
    # one top-level key, the plugin's settings category (discourse_akismet does the same)
    groups = YAML.safe_load(File.read(File.join(Fakes::PLUGIN_DIR, "config", "settings.yml")))
    raise "settings.yml: one settings category expected, not #{groups.keys}" unless groups.size == 1

    groups.values.first.each do |name, spec|
      @values[name.to_sym] = spec.fetch("default")
      @choices[name.to_sym] = spec["choices"] if spec["type"] == "enum"
    end
  end

  def self.method_missing(name, *args)
    key = name.to_s.chomp("=").to_sym
    return super unless @values.key?(key)

    if name.to_s.end_with?("=")
      value = args.first
      raise ArgumentError, "#{key}: #{value.inspect} not in #{@choices[key]}" if @choices[key] && !@choices[key].include?(value.to_s)

      @values[key] = value
    else
      @values[key]
    end
  end

  def self.respond_to_missing?(name, priv = false)
    @values.key?(name.to_s.chomp("=").to_sym) || super
  end
end

class User
  attr_reader :id, :username, :created_at

  def initialize(id, username, staff: false, created_at: Time.now - (400 * 86_400))
    @id = id
    @username = username
    @staff = staff
    @created_at = created_at
  end

  def staff?
    @staff
  end
end

Topic = Struct.new(:title)

class Post
  class << self
    attr_accessor :next_id
  end

  attr_accessor :raw, :last_editor
  attr_reader :id, :user, :topic, :post_number, :custom_fields, :saved_fields, :hidden_with

  def initialize(raw:, user:, topic: Topic.new("a topic"), post_number: 2)
    @id = (Post.next_id += 1)
    @raw = raw
    @user = user
    @topic = topic
    @post_number = post_number
    @custom_fields = {}
    @saved_fields = nil
    @hidden_with = nil
  end

  def is_first_post? # rubocop:disable Naming/PredicateName (Discourse's name)
    @post_number == 1
  end

  def save_custom_fields(_force = false)
    @saved_fields = @custom_fields.dup
  end

  def hide!(post_action_type, _reason = nil, custom_message: nil)
    @hidden_with = post_action_type
  end

  def hidden?
    !@hidden_with.nil?
  end
end

# lib/post_action_type.rb (the ids Discourse ships)
class PostActionType
  def self.types
    { like: 2, off_topic: 3, inappropriate: 4, notify_user: 6, notify_moderators: 7, spam: 8, illegal: 10 }
  end
end

# lib/post_action_creator.rb: the class-level shortcut.
class PostActionCreator
  CreateResult = Struct.new(:success, :reviewable) do
    def success?
      success
    end
  end

  def self.create(created_by, post, action_key, message: nil, created_at: nil, reason: nil, silent: false, context: nil)
    raise ArgumentError, "unknown action #{action_key}" unless PostActionType.types.key?(action_key)

    Fakes.log << [:flag, created_by, post, action_key, message]
    CreateResult.new(true, :reviewable_flagged_post)
  end
end

module Discourse
  SYSTEM_USER_ID = -1

  def self.system_user
    @system_user ||= User.new(SYSTEM_USER_ID, "system", staff: true)
  end
end

module Rails
  def self.logger
    @logger ||= Logger.new(log_io)
  end

  def self.log_io
    @log_io ||= StringIO.new
  end
end

# I18n.t, strict: the key must exist in the plugin's config/locales/server.en.yml.
module I18n
  def self.t(key, **args)
    @strings ||= YAML.safe_load(File.read(File.join(Fakes::PLUGIN_DIR, "config", "locales", "server.en.yml"))).fetch("en")
    s = key.split(".").reduce(@strings) { |h, k| h.is_a?(Hash) ? h.fetch(k) : raise(KeyError, key) }
    s.gsub(/%\{(\w+)\}/) { args.fetch(Regexp.last_match(1).to_sym).to_s }
  end
end

# lib/plugin/instance.rb: the DSL plugin.rb is evaluated with.
module Plugin
  class Instance
    attr_reader :enabled_setting, :custom_field_types

    def initialize(path)
      @path = path
      @after_init = []
      @custom_field_types = {}
    end

    def enabled_site_setting(name)
      @enabled_setting = name
    end

    def after_initialize(&block)
      @after_init << block
    end

    def on(event, &block)
      DiscourseEvent.on(event, &block)
    end

    def register_post_custom_field_type(name, type)
      @custom_field_types[name] = type
    end

    def activate!
      instance_eval(File.read(@path), @path)
      @after_init.each { |b| instance_eval(&b) }
      self
    end
  end
end
