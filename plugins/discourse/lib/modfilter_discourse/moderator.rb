# frozen_string_literal: true

require "json"

module ModfilterDiscourse
  VERDICT_FIELD = "modfilter_verdict"
  # How long a failure to build the engine (rules with a mistake, library missing) is remembered
  # before the next post tries again, so a broken setup does not recompile on every post.
  RETRY_AFTER = 60

  # One engine per process, built on first use (after Unicorn / Puma forks), reused by every request
  # and rebuilt when the rules directory setting changes. The binding serialises scans on one engine.
  module Filter
    @mutex = Mutex.new
    @engine = nil
    @key = nil
    @failure = nil

    class << self
      def engine
        dir = SiteSetting.modfilter_rules_directory.to_s.strip
        @mutex.synchronize do
          return @engine if @engine && @key == dir
          if @failure && @failure[0] == dir && Process.clock_gettime(Process::CLOCK_MONOTONIC) < @failure[1]
            raise @failure[2]
          end

          begin
            load_binding
            built = dir.empty? ? ::Modfilter::Engine.new : ::Modfilter::Engine.from_rules(dir)
          rescue StandardError, LoadError => e
            @failure = [dir, Process.clock_gettime(Process::CLOCK_MONOTONIC) + RETRY_AFTER, e]
            raise
          end
          @engine&.close
          @engine, @key, @failure = built, dir, nil
          built
        end
      end

      # Forget the engine (settings changed): the next scan builds a new one.
      def reset!
        @mutex.synchronize do
          @engine&.close
          @engine = @key = @failure = nil
        end
      end

      # The Ruby binding: an installed modfilter gem, or a copy under vendor/modfilter.
      def load_binding
        return if defined?(::Modfilter::Engine)

        vendor = File.expand_path("../../vendor/modfilter/lib", __dir__)
        $LOAD_PATH.unshift(vendor) if File.directory?(vendor) && !$LOAD_PATH.include?(vendor)
        require "modfilter"
      end

      def scan(text, user, **fields)
        role = user.respond_to?(:staff?) && user.staff? ? :staff : :member
        fields[:author_id] = user.id if user.respond_to?(:id) && user.id
        if user.respond_to?(:created_at) && user.created_at
          fields[:age_days] = ((Time.now - user.created_at) / 86_400).floor.clamp(0, 2**31 - 1)
        end
        engine.scan(text.to_s, role: role, **fields)
      end
    end
  end

  # What the plugin does with each verdict; called from plugin.rb's handler and events.
  module Moderator
    class << self
      # NewPostManager handler: a NewPostResult to stop Discourse's own flow, or nil to let it go on.
      def new_post(manager)
        return nil unless SiteSetting.modfilter_enabled

        args = manager.args
        verdict = Filter.scan(post_text(args[:title], args[:raw]), manager.user,
                              channel: args[:topic_id] || args[:category])
        case verdict.action
        when :hold then manager.enqueue(:modfilter)
        when :reject then refuse(I18n.t("modfilter.rejected", categories: verdict.categories.keys.join(", ")))
        end
      rescue StandardError, LoadError => e
        log(e)
        case SiteSetting.modfilter_on_error.to_s
        when "reject" then refuse(I18n.t("modfilter.unavailable"))
        when "flag" then nil # published, then flagged by post_created (which fails to scan too)
        else manager.enqueue(:modfilter_unavailable)
        end
      end

      # After Discourse created a post: record a FLAG verdict and tell moderators.
      def post_created(post, user = nil)
        return unless SiteSetting.modfilter_enabled

        title = post.respond_to?(:is_first_post?) && post.is_first_post? && post.topic ? post.topic.title : nil
        verdict = Filter.scan(post_text(title, post.raw), user || post.user, id: post.id)
        return if verdict.action == :allow

        record(post, verdict)
        # HOLD / REJECT here means a moderator approved the post from the queue: recorded, not re-flagged.
        flag(post, I18n.t("modfilter.flagged", action: verdict.action.to_s.upcase, categories: verdict.categories.keys.join(", "))) if verdict.action == :flag
      rescue StandardError, LoadError => e
        log(e)
        flag(post, I18n.t("modfilter.unavailable_flag", error: e.message)) if SiteSetting.modfilter_on_error.to_s == "flag"
      end

      # After Discourse saved an edit (it cannot be held any more): FLAG, HOLD or REJECT flags the post
      # for review; REJECT also hides it when modfilter_hide_rejected_edits is on.
      def post_edited(post, _topic_changed = false, revisor = nil)
        return unless SiteSetting.modfilter_enabled
        return if revisor.respond_to?(:reviewable_content_changed?) && !revisor.reviewable_content_changed?

        editor = (post.last_editor if post.respond_to?(:last_editor)) || post.user
        return if editor.respond_to?(:id) && editor.id == Discourse::SYSTEM_USER_ID

        title = post.respond_to?(:is_first_post?) && post.is_first_post? && post.topic ? post.topic.title : nil
        # Judged as its author's post, whoever edited it: the post speaks under the author's name (a
        # moderator who tidies a member's post quoting "we'll refund you" makes no staff promise,
        # and a member cannot edit a staff post), as NodeBB's plugin does.
        verdict = Filter.scan(post_text(title, post.raw), post.user || editor, id: post.id, edit: true)
        return if verdict.action == :allow

        record(post, verdict)
        flag(post, I18n.t("modfilter.flagged_edit", action: verdict.action.to_s.upcase, categories: verdict.categories.keys.join(", ")))
        hide(post) if verdict.action == :reject && SiteSetting.modfilter_hide_rejected_edits
      rescue StandardError, LoadError => e
        log(e)
        flag(post, I18n.t("modfilter.unavailable_flag", error: e.message))
        hide(post) if SiteSetting.modfilter_on_error.to_s == "reject" && SiteSetting.modfilter_hide_rejected_edits
      end

      # The text scanned: a new topic's title and its first post, or a reply's text.
      def post_text(title, raw)
        title = title.to_s
        title.empty? ? raw.to_s : "#{title}\n\n#{raw}"
      end

      # The verdict as stored in the post's custom field.
      def summary(verdict)
        { "action" => verdict.action.to_s.upcase, "categories" => verdict.categories, "routes" => verdict.routes,
          "hits" => verdict.hits.map { |h| { "rule" => h.rule, "category" => h.category, "start" => h.char_start, "end" => h.char_end } } }
      end

      private

      def refuse(message)
        result = NewPostResult.new(:created_post, false)
        result.errors.add(:base, message)
        result
      end

      def record(post, verdict)
        post.custom_fields[VERDICT_FIELD] = summary(verdict)
        post.save_custom_fields(true)
      end

      # A flag from the system user: a ReviewableFlaggedPost in the review queue, and a message to moderators.
      def flag(post, message)
        PostActionCreator.create(Discourse.system_user, post, :notify_moderators, message: message)
      end

      def hide(post)
        post.hide!(PostActionType.types[:inappropriate]) unless post.hidden?
      end

      def log(error)
        Rails.logger.warn("modfilter: the filter could not run: #{error.class}: #{error.message}")
      end
    end
  end
end
