'use strict';

// The settings page (ACP > Plugins > modfilter): NodeBB's own settings module loads and saves the form.
define('admin/plugins/modfilter', ['settings'], function (settings) {
	const ACP = {};

	ACP.init = function () {
		settings.load('modfilter', $('.modfilter-settings'));
		$('#save').on('click', function () {
			settings.save('modfilter', $('.modfilter-settings'));
		});
	};

	return ACP;
});
