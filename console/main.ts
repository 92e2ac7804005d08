/** The ops console page: one Vue app (console/App.vue) with frappe-ui's components. */
import { createApp } from 'vue';
import App from './App.vue';

createApp(App).mount('#app');
