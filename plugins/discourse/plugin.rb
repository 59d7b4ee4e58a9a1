# frozen_string_literal: true

# name: discourse-modfilter
# about: Scans new posts and edits with modfilter (abuse, spam, staff promises): holds posts for review, blocks the worst, flags the rest.
# version: 0.1.0
# authors: modfilter contributors

enabled_site_setting :modfilter_enabled

require_relative "lib/modfilter_discourse/moderator"

after_initialize do
  # The verdict recorded on flagged, held or rejected posts (JSON: action, categories, routes, hits).
  register_post_custom_field_type(ModfilterDiscourse::VERDICT_FIELD, :json)

  # New posts and topics: before Discourse creates them. HOLD -> the review queue (manager.enqueue),
  # REJECT -> refused with a reason, ALLOW / FLAG -> nil, so Discourse goes on creating the post.
  # Priority 10: ahead of the default approval rules, so a held post is queued with our reason.
  NewPostManager.add_handler(10) { |manager| ModfilterDiscourse::Moderator.new_post(manager) }

  # FLAG verdicts (and posts published while the filter could not run, if so configured) are
  # recorded once the post exists.
  on(:post_created) { |post, _opts, user| ModfilterDiscourse::Moderator.post_created(post, user) }

  # Edits are saved before any event fires: a HOLD or worse flags the edited post for review
  # (and a REJECT also hides it, if so configured).
  on(:post_edited) { |post, topic_changed, revisor| ModfilterDiscourse::Moderator.post_edited(post, topic_changed, revisor) }

  # Rules directory changed in the admin settings: the next post builds a new engine.
  on(:site_setting_changed) do |name, _old, _new|
    ModfilterDiscourse::Filter.reset! if name.to_s.start_with?("modfilter_")
  end
end
