<div class="acp-page-container">
	<div class="row m-0">
		<div id="spy-container" class="col-12 col-md-8 px-0 mb-4" tabindex="0">
			<h4>modfilter</h4>
			{{{ if engineOk }}}
			<p class="alert alert-success">The filter is running: {ruleCount} rules, libmodfilter at <code>{library}</code>.</p>
			{{{ else }}}
			<p class="alert alert-danger">The filter cannot run, so posts are handled as the setting below says: <code>{engineError}</code></p>
			{{{ end }}}

			<form role="form" class="modfilter-settings">
				<div class="mb-3">
					<label class="form-label" for="rules">Rule packs</label>
					<input type="text" id="rules" name="rules" class="form-control" placeholder="empty: the default packs">
					<p class="form-text">A <code>.toml</code> rule pack, a directory of them, or a compiled <code>.mfdb</code> database (<code>modfilter compile</code>). Empty: the default packs built into libmodfilter. A mistake in the packs is shown above.</p>
				</div>
				<div class="mb-3">
					<label class="form-label" for="onFailure">When the filter cannot run</label>
					<select id="onFailure" name="onFailure" class="form-select">
						<option value="hold">Hold: new posts go to the post queue, edits are reported to moderators</option>
						<option value="reject">Reject: the post is refused and the author asked to try again</option>
					</select>
				</div>
				<div class="form-check form-switch mb-3">
					<input type="checkbox" class="form-check-input" id="reportFlagged" name="reportFlagged" checked>
					<label for="reportFlagged" class="form-check-label">Report posts the filter flags (FLAG) to moderators</label>
				</div>
				<div class="mb-3">
					<label class="form-label" for="rejectMessage">Message shown when a post is refused</label>
					<input type="text" id="rejectMessage" name="rejectMessage" class="form-control" placeholder="Your post was not published because it breaks the rules of this forum ({categories}).">
					<p class="form-text"><code>{categories}</code> is replaced by the categories found, such as <code>abuse.threat</code>.</p>
				</div>
				<div class="mb-3">
					<label class="form-label" for="failureMessage">Message shown when a post is refused because the filter cannot run</label>
					<input type="text" id="failureMessage" name="failureMessage" class="form-control" placeholder="Your post could not be checked right now, so it was not published. Please try again in a few minutes.">
				</div>
			</form>
			<button id="save" class="btn btn-primary">Save</button>
		</div>
	</div>
</div>
